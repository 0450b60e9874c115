-- police.uk ASB rows in the shape of stg_police__asb_incidents: month precision,
-- no incident reference, category or caller.
with

street_records as (

    select * from {{ ref('base_policeuk__street_records') }}
    where crime_type = 'Anti-social behaviour'

),

conformed as (

    select
        cast(null as varchar) as incident_ref,
        record_month as reported_on,
        record_month as reported_month,
        cast(null as varchar) as asb_category,
        cast(null as varchar) as ward_code,
        lsoa_code,
        cast(null as varchar) as caller_hash,
        'policeuk' as source_format,
        false as is_approximation,
        load_id,
        delivered_at

    from street_records

)

select * from conformed
