with

source as (

    select * from {{ source('raw', 'police_recorded_crime') }}

),

usable_loads as (

    select * from {{ ref('stg_ingest__load_log') }}
    where is_usable

),

renamed as (

    select
        source.crime_ref,
        source.recorded_date as recorded_on,
        cast(date_trunc('month', source.recorded_date) as date) as recorded_month,
        source.offence_group,
        source.victim_ref_hash as victim_hash,
        source.victim_type,
        source.premises_type,
        source.ward_code,
        source.lsoa_code,
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
    {{ latest_delivery('crime_ref') }}

)

select * from deduplicated
