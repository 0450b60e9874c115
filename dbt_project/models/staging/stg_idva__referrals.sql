with

source as (

    select * from {{ source('raw', 'idva_referrals') }}

),

usable_loads as (

    select * from {{ ref('stg_ingest__load_log') }}
    where is_usable

),

renamed as (

    select
        source.referral_id,
        source.referral_date as referred_on,
        cast(date_trunc('month', source.referral_date) as date) as referral_month,
        {{ fiscal_period_of('source.referral_date') }},
        source.client_ref_hash as client_hash,
        source.risk_level,
        source.assessment_outcome,
        source.engagement,
        source.referred_to_programme as is_referred_to_programme,
        source._load_id as load_id,
        usable_loads.received_at as delivered_at

    from source
    inner join usable_loads
        on source._load_id = usable_loads.load_id

),

deduplicated as (

    select * from renamed
    {{ latest_delivery('referral_id') }}

)

select * from deduplicated
