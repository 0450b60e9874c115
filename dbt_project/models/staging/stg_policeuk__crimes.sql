-- police.uk crime counts in the shape of stg_police__recorded_crimes: one row per
-- local authority, month and crime type with its record_count (police.uk rows have
-- month precision and no victim, so nothing row-level is lost for the measures);
-- police.uk crime types in place of Home Office offence groups.  A crime type
-- coarser than the offence groups the measures count is flagged as an
-- approximation.
with

street_counts as (

    select * from {{ ref('base_policeuk__street_counts') }}
    where crime_type <> 'Anti-social behaviour'

),

conformed as (

    select
        cast(null as varchar) as crime_ref,
        record_month as recorded_on,
        record_month as recorded_month,
        crime_type as offence_group,
        cast(null as varchar) as victim_hash,
        cast(null as varchar) as victim_type,
        cast(null as varchar) as premises_type,
        cast(null as varchar) as ward_code,
        cast(null as varchar) as lsoa_code,
        area_code,
        area_name,
        record_count,
        'policeuk' as source_format,
        crime_type in (
            'Violence and sexual offences',
            'Robbery',
            'Criminal damage and arson'
        ) as is_approximation,
        load_id,
        delivered_at

    from street_counts

)

select * from conformed
