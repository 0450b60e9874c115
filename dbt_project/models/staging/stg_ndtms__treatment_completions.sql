-- Agency-supplied rolling 12-month figures, one row per quarter end, drug group
-- and cohort; the measure series name is derived here (opiate_all, opiate_cj, ...).
-- first_delivered_at counts every delivery up to the as-of date, including loads a
-- correction later superseded, so that a figure is late only if it first came late.
with

source as (

    select * from {{ source('raw', 'ndtms_treatment_completions') }}

),

delivered_loads as (

    select * from {{ ref('stg_ingest__load_log') }}
    where is_delivered

),

renamed as (

    select
        source.period_end,
        {{ fiscal_period_of('source.period_end') }},
        source.drug_group,
        source.cohort,
        source.drug_group
        || case source.cohort when 'criminal_justice' then '_cj' else '_all' end
            as series,
        source.in_treatment,
        source.successful_completions,
        source._load_id as load_id,
        source._source_row as source_row,
        delivered_loads.received_at as delivered_at,
        delivered_loads.is_usable

    from source
    inner join delivered_loads
        on source._load_id = delivered_loads.load_id

),

with_first_delivery as (

    select
        *,
        min(delivered_at) over (
            partition by period_end, drug_group, cohort
        ) as first_delivered_at

    from renamed

),

deduplicated as (

    select * exclude (is_usable)
    from with_first_delivery
    where is_usable
    {{ latest_delivery('period_end, drug_group, cohort', by_row=true) }}

)

select * from deduplicated
