with

source as (

    select * from {{ source('raw', 'maasbt_service_requests') }}

),

usable_loads as (

    select * from {{ ref('stg_ingest__load_log') }}
    where is_usable

),

renamed as (

    select
        source.request_id,
        source.received_date as received_on,
        cast(date_trunc('month', source.received_date) as date) as received_month,
        {{ fiscal_period_of('source.received_date') }},
        source.request_type,
        source.caller_ref_hash as caller_hash,
        source.ward_name,
        source.channel,
        source.status as request_status,
        source._load_id as load_id,
        usable_loads.received_at as delivered_at

    from source
    inner join usable_loads
        on source._load_id = usable_loads.load_id

),

deduplicated as (

    select * from renamed
    {{ latest_delivery('request_id') }}

)

select * from deduplicated
