with

source as (

    select * from {{ source('raw', 'asb_satisfaction_survey') }}

),

usable_loads as (

    select * from {{ ref('stg_ingest__load_log') }}
    where is_usable

),

renamed as (

    select
        source.response_id,
        source.survey_date as responded_on,
        cast(date_trunc('month', source.survey_date) as date) as response_month,
        {{ fiscal_period_of('source.survey_date') }},
        source.case_ref_hash as case_hash,
        source.satisfied as is_satisfied,
        source._load_id as load_id,
        usable_loads.received_at as delivered_at

    from source
    inner join usable_loads
        on source._load_id = usable_loads.load_id

),

deduplicated as (

    select * from renamed
    {{ latest_delivery('response_id') }}

)

select * from deduplicated
