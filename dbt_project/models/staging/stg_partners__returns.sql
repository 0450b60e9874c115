-- The current return per measure series and quarter: the latest delivery wins,
-- whichever agency sent it (the natural key of ingest/feeds.py).  A later return
-- may carry an earlier quarter (a late figure); first_value_delivered_at is when
-- a figure (reported or nil) for the quarter was first delivered, counting every
-- delivery up to the as-of date, including loads a correction later superseded.
with

source as (

    select * from {{ source('raw', 'partner_returns') }}

),

delivered_loads as (

    select * from {{ ref('stg_ingest__load_log') }}
    where is_delivered

),

renamed as (

    select
        source.agency,
        source.measure_id,
        source.series,
        source.fiscal_year,
        source.quarter,
        source.value,
        source.numerator,
        source.denominator,
        source.status as return_status,
        source.note as return_note,
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
            partition by measure_id, series, fiscal_year, quarter
        ) as first_delivered_at,
        min(delivered_at) filter (
            where return_status in ('reported', 'nil_return')
        ) over (
            partition by measure_id, series, fiscal_year, quarter
        ) as first_value_delivered_at

    from renamed

),

deduplicated as (

    select * exclude (is_usable)
    from with_first_delivery
    where is_usable
    {{ latest_delivery('measure_id, series, fiscal_year, quarter', by_row=true) }}

)

select * from deduplicated
