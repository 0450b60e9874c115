with

source as (

    select * from {{ source('raw', 'police_asb_incidents') }}

),

usable_loads as (

    select * from {{ ref('stg_ingest__load_log') }}
    where is_usable

),

renamed as (

    select
        source.incident_ref,
        cast(source.reported_at as date) as reported_on,
        cast(date_trunc('month', source.reported_at) as date) as reported_month,
        source.asb_category,
        source.ward_code,
        source.lsoa_code,
        source.caller_ref_hash as caller_hash,
        'force_extract' as source_format,
        false as is_approximation,
        source._load_id as load_id,
        usable_loads.received_at as delivered_at

    from source
    inner join usable_loads
        on source._load_id = usable_loads.load_id

),

deduplicated as (

    select * from renamed
    {{ latest_delivery('incident_ref') }}

)

select * from deduplicated
