-- police.uk rows of the partnership area from the usable loads.  police.uk files
-- often overlap (a monthly file and a later twelve-month archive), so for each
-- force and month only the latest delivered load that holds that month is kept.
with

source as (

    select * from {{ source('raw', 'policeuk_street') }}

),

usable_loads as (

    select * from {{ ref('stg_ingest__load_log') }}
    where is_usable

),

renamed as (

    select
        nullif(trim(source.crime_id), '') as crime_id,
        source.month as record_month,
        source.reported_by,
        source.falls_within,
        source.lsoa_code,
        source.lsoa_name,
        source.crime_type,
        source.last_outcome_category,
        source.area_code,
        source.area_name,
        source._load_id as load_id,
        usable_loads.received_at as delivered_at

    from source
    inner join usable_loads
        on source._load_id = usable_loads.load_id
    where {{ in_partnership_area('source.area_code', 'source.area_name') }}

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

current_rows as (

    select renamed.*
    from renamed
    inner join latest_load_per_month
        on
            renamed.falls_within = latest_load_per_month.falls_within
            and renamed.record_month = latest_load_per_month.record_month
            and renamed.load_id = latest_load_per_month.load_id

)

select * from current_rows
