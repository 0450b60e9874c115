-- Every rejected delivery known on the as-of date, with the period and scope it
-- covers and whether it is still outstanding: the one definition of "outstanding
-- rejected delivery" (the feeds' rejected_files checks, int_measure_quarter and so
-- fct_missing_returns and the chase lists read it).
--
-- A rejection covers the period and scope the ledger read from the file (ingest/
-- ledger.py); when none could be read, the feed's latest period that had ended
-- when the file arrived (a month or a fiscal quarter, the return calendar's
-- frequency).  It is cleared, in the order of "latest delivery wins" (load id), by
-- later good deliveries of the same feed (loaded, superseded since, or a duplicate
-- of a loaded file) delivered by the as-of date whose periods together cover every
-- month of it, of the same scope where both have one; or by any later delivery under
-- the same file name (a good one corrects it in place, a rejected one stands in).
with

load_log as (

    select * from {{ ref('stg_ingest__load_log') }}

),

return_calendar as (

    select * from {{ ref('return_calendar') }}

),

rejected as (

    select
        load_log.load_id,
        load_log.feed_name,
        load_log.file_name,
        load_log.received_at,
        load_log.received_on,
        load_log.error_message,
        load_log.load_scope,
        load_log.period_start is not null as is_period_read,
        case
            when load_log.period_start is not null then load_log.period_start
            when return_calendar.frequency = 'monthly'
                then cast(date_trunc('month', load_log.received_on) - interval 1 month as date)
            else cast(date_trunc('quarter', load_log.received_on) - interval 3 month as date)
        end as period_start,
        case
            when load_log.period_start is not null then load_log.period_end
            when return_calendar.frequency = 'monthly'
                then cast(date_trunc('month', load_log.received_on) - interval 1 day as date)
            else cast(date_trunc('quarter', load_log.received_on) - interval 1 day as date)
        end as period_end

    from load_log
    left join return_calendar on load_log.feed_name = return_calendar.source_feed
    where
        load_log.load_status = 'rejected'
        and load_log.received_on <= {{ as_of_date() }}

),

-- good deliveries known on the as-of date; a duplicate has its original's period
good as (

    select
        load_log.load_id,
        load_log.feed_name,
        load_log.file_name,
        coalesce(load_log.period_start, original.period_start) as period_start,
        coalesce(load_log.period_end, original.period_end) as period_end,
        coalesce(load_log.load_scope, original.load_scope) as load_scope

    from load_log
    left join load_log as original
        on
            load_log.load_status = 'duplicate'
            and load_log.file_sha256 = original.file_sha256
            and original.load_status in ('loaded', 'superseded')
    where
        load_log.load_status in ('loaded', 'superseded', 'duplicate')
        and load_log.received_on <= {{ as_of_date() }}

),

rejected_months as (

    select
        load_id,
        cast(unnest(generate_series(period_start, period_end, interval 1 month)) as date)
            as month_start

    from rejected

),

covering as (

    select
        rejected.load_id,
        good.load_id as good_load_id,
        good.file_name as good_file_name,
        rejected_months.month_start

    from rejected
    inner join rejected_months on rejected.load_id = rejected_months.load_id
    inner join good
        on
            rejected.feed_name = good.feed_name
            and rejected.load_id < good.load_id
            and rejected_months.month_start between good.period_start and good.period_end
            and (
                rejected.load_scope is null
                or good.load_scope is null
                or rejected.load_scope = good.load_scope
            )

),

coverage as (

    select
        rejected_months.load_id,
        count(*) as months_in_period,
        count(distinct covering.month_start) as months_covered,
        min(covering.good_load_id) as first_covering_load_id

    from rejected_months
    left join covering
        on
            rejected_months.load_id = covering.load_id
            and rejected_months.month_start = covering.month_start
    group by rejected_months.load_id

),

same_name as (

    select
        rejected.load_id,
        min(load_log.load_id) as next_load_id

    from rejected
    inner join load_log
        on
            rejected.file_name = load_log.file_name
            and rejected.load_id < load_log.load_id
            and load_log.received_on <= {{ as_of_date() }}
    group by rejected.load_id

),

final as (

    select
        rejected.load_id,
        rejected.feed_name,
        rejected.file_name,
        rejected.received_at,
        rejected.received_on,
        rejected.error_message,
        rejected.load_scope,
        rejected.period_start,
        rejected.period_end,
        rejected.is_period_read,
        case
            when same_name.next_load_id is not null then same_name.next_load_id
            when coverage.months_covered >= coverage.months_in_period
                then coverage.first_covering_load_id
        end as cleared_by_load_id,
        same_name.next_load_id is null
        and coalesce(coverage.months_covered < coverage.months_in_period, true)
            as is_outstanding

    from rejected
    left join coverage on rejected.load_id = coverage.load_id
    left join same_name on rejected.load_id = same_name.load_id

)

select
    final.*,
    clearing.file_name as cleared_by_file_name,
    clearing.load_status as cleared_by_load_status

from final
left join load_log as clearing on final.cleared_by_load_id = clearing.load_id
