-- police.uk street-level counts of the partnership area(s) from the usable loads.
-- police.uk files often overlap (a monthly file and a later twelve-month archive),
-- so for each force and month only the latest delivered load that holds that month
-- is kept.  One row per local authority, month and crime type.
with

load_counts as (

    select * from {{ ref('base_policeuk__load_counts') }}

),

usable_loads as (

    select * from {{ ref('stg_ingest__load_log') }}
    where is_usable

),

renamed as (

    select
        load_counts.record_month,
        load_counts.falls_within,
        load_counts.area_code,
        load_counts.area_name,
        load_counts.crime_type,
        load_counts.record_count,
        load_counts.load_id,
        usable_loads.received_at as delivered_at

    from load_counts
    inner join usable_loads
        on load_counts.load_id = usable_loads.load_id
    where
        load_counts.area_code is not null
        and {{ in_partnership_area('load_counts.area_code', 'load_counts.area_name') }}

),

latest_load_per_month as (

    select distinct
        falls_within,
        record_month,
        first_value(load_id) over (
            partition by falls_within, record_month
            order by delivered_at desc, load_id desc
        ) as load_id

    from renamed

),

current_counts as (

    select
        renamed.area_code,
        any_value(renamed.area_name) as area_name,
        renamed.record_month,
        renamed.crime_type,
        sum(renamed.record_count) as record_count,
        max(renamed.load_id) as load_id,
        max(renamed.delivered_at) as delivered_at

    from renamed
    inner join latest_load_per_month
        on
            renamed.falls_within = latest_load_per_month.falls_within
            and renamed.record_month = latest_load_per_month.record_month
            and renamed.load_id = latest_load_per_month.load_id
    group by renamed.area_code, renamed.record_month, renamed.crime_type

)

select * from current_counts
