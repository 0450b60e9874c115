with

source as (

    select * from {{ source('raw', 'marac_cases') }}

),

usable_loads as (

    select * from {{ ref('stg_ingest__load_log') }}
    where is_usable

),

renamed as (

    select
        source.case_ref_hash as case_hash,
        source.marac_date as heard_on,
        cast(date_trunc('month', source.marac_date) as date) as heard_month,
        {{ fiscal_period_of('source.marac_date') }},
        source.victim_ref_hash as victim_hash,
        source.repeat_case as is_repeat_case,
        source.engaged_with_service,
        source._load_id as load_id,
        usable_loads.received_at as delivered_at

    from source
    inner join usable_loads
        on source._load_id = usable_loads.load_id

),

deduplicated as (

    select * from renamed
    {{ latest_delivery('case_hash') }}

)

select * from deduplicated
