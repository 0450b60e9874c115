-- police.uk crime rows in the shape of stg_police__recorded_crimes: month
-- precision, police.uk crime types in place of Home Office offence groups, no
-- victim.  A row whose crime type is coarser than the offence groups the measures
-- count is flagged as an approximation.
with

street_records as (

    select * from {{ ref('base_policeuk__street_records') }}
    where crime_type <> 'Anti-social behaviour'

),

conformed as (

    select
        crime_id as crime_ref,
        record_month as recorded_on,
        record_month as recorded_month,
        crime_type as offence_group,
        cast(null as varchar) as victim_hash,
        cast(null as varchar) as victim_type,
        cast(null as varchar) as premises_type,
        cast(null as varchar) as ward_code,
        lsoa_code,
        'policeuk' as source_format,
        crime_type in (
            'Violence and sexual offences',
            'Robbery',
            'Criminal damage and arson'
        ) as is_approximation,
        load_id,
        delivered_at

    from street_records

)

select * from conformed
