-- Which months each record feed has delivered, as of the run's as-of date.  A
-- load covers the months from its period_start to its period_end; a quarterly
-- feed's load covers whole quarters (a quarter's file may hold no record in one
-- of its months) up to the last month its records reach: a file cut short (its
-- ledger notes say "partial quarter", ingest/coverage.py) leaves its last
-- quarter partial.  first_delivered_at counts every delivery up to the as-of date,
-- including loads a correction later superseded, so that a month is late only if
-- it first came late.
with

loads as (

    select * from {{ ref('stg_ingest__load_log') }}
    where is_delivered and period_start is not null and rows_loaded > 0

),

return_calendar as (

    select * from {{ ref('return_calendar') }}

),

fiscal_months as (

    select * from {{ ref('int_fiscal_months') }}

),

load_quarters as (

    select
        loads.load_id,
        loads.feed_name,
        loads.received_at,
        loads.is_usable,
        return_calendar.frequency,
        {{ fiscal_quarter_index_of('loads.period_start') }} as first_quarter_index,
        {{ fiscal_quarter_index_of('loads.period_end') }} as last_quarter_index,
        cast(date_trunc('month', loads.period_start) as date) as first_month,
        cast(date_trunc('month', loads.period_end) as date) as last_month

    from loads
    left join return_calendar
        on loads.feed_name = return_calendar.source_feed

),

load_months as (

    select
        load_quarters.load_id,
        load_quarters.feed_name,
        load_quarters.received_at,
        load_quarters.is_usable,
        fiscal_months.fiscal_year,
        fiscal_months.quarter,
        fiscal_months.month_start

    from load_quarters
    inner join fiscal_months
        on
            case
                when load_quarters.frequency = 'quarterly'
                    then
                        fiscal_months.fiscal_year_start * 4 + fiscal_months.quarter - 1
                        between load_quarters.first_quarter_index
                        and load_quarters.last_quarter_index
                        and load_quarters.last_month >= fiscal_months.month_start
                else
                    fiscal_months.month_start
                    between load_quarters.first_month and load_quarters.last_month
            end

),

coverage as (

    select
        feed_name,
        fiscal_year,
        quarter,
        month_start,
        bool_or(is_usable) as is_covered,
        min(received_at) as first_delivered_at,
        max(received_at) filter (where is_usable) as last_delivered_at

    from load_months
    group by feed_name, fiscal_year, quarter, month_start

)

select * from coverage
