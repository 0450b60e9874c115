-- police.uk ASB counts in the shape of stg_police__asb_incidents: one row per local
-- authority and month with its record_count (police.uk ASB rows have month
-- precision and no incident reference, category or caller).
with

street_counts as (

    select * from {{ ref('base_policeuk__street_counts') }}
    where crime_type = 'Anti-social behaviour'

),

conformed as (

    select
        cast(null as varchar) as incident_ref,
        record_month as reported_on,
        record_month as reported_month,
        cast(null as varchar) as asb_category,
        cast(null as varchar) as ward_code,
        cast(null as varchar) as lsoa_code,
        cast(null as varchar) as caller_hash,
        area_code,
        area_name,
        record_count,
        'policeuk' as source_format,
        false as is_approximation,
        load_id,
        delivered_at

    from street_counts

)

select * from conformed
