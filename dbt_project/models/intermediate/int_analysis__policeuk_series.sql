-- The catalogue series police.uk street-level data can give a rate for, with the
-- police.uk crime type each counts: the crime types the offence_group_measures seed
-- maps for source_format policeuk, plus the police.uk ASB rows for the catalogue's
-- ASB incident count (the record_count series whose source is the police ASB feed;
-- stg_policeuk__asb_incidents gives them the crime type 'Anti-social behaviour').
with

measures as (

    select * from {{ ref('measures') }}

),

computation as (

    select * from {{ ref('measure_computation') }}

),

offence_groups as (

    select * from {{ ref('offence_group_measures') }}
    where source_format = 'policeuk'

),

crime_series as (

    select
        offence_groups.measure_id,
        offence_groups.series,
        offence_groups.offence_group as crime_type,
        offence_groups.is_approximation

    from offence_groups

),

asb_series as (

    select
        measures.measure_id,
        measures.series,
        'Anti-social behaviour' as crime_type,
        false as is_approximation

    from measures
    inner join computation
        on
            measures.measure_id = computation.measure_id
            and measures.series = computation.series
    where
        measures.source = 'police_asb_incidents'
        and computation.method = 'record_count'

),

final as (

    select
        unioned.measure_id,
        unioned.series,
        unioned.crime_type,
        unioned.is_approximation,
        measures.title

    from (
        select * from crime_series
        union all
        select * from asb_series
    ) as unioned
    inner join measures
        on
            unioned.measure_id = measures.measure_id
            and unioned.series = measures.series

)

select * from final
