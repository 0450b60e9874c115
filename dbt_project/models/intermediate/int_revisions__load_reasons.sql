-- Each delivered load of the ingest ledger with what it means for a figure already
-- published, in words (fct_figure_revisions names the loads behind a revision):
--   police.uk re-issued a month                  a police.uk load superseded an earlier one
--   a corrected file superseded an earlier one   any other feed's load that did
--   another delivery for the period              an earlier load of the feed overlaps
--   a late return arrived                        the feed's first load for the period
with

loads as (

    select * from {{ ref('stg_ingest__load_log') }}
    where is_delivered

),

superseding as (

    select distinct superseded_by_load_id as load_id

    from loads
    where superseded_by_load_id is not null

),

repeated as (

    select distinct later.load_id

    from loads as later
    inner join loads as older
        on
            later.feed_name = older.feed_name
            and later.received_at > older.received_at
            and later.period_end >= older.period_start
            and later.period_start <= older.period_end

),

final as (

    select
        loads.load_id,
        loads.feed_name,
        loads.file_name,
        loads.received_at,
        loads.received_on,
        loads.period_start,
        loads.period_end,
        case
            when superseding.load_id is not null and loads.feed_name = 'policeuk_street'
                then 'police.uk re-issued a month'
            when superseding.load_id is not null
                then 'a corrected file superseded an earlier one'
            when repeated.load_id is not null then 'another delivery for the period'
            else 'a late return arrived'
        end
        || ' (' || loads.feed_name || ': ' || regexp_extract(loads.file_name, '[^/]+$')
        || ', received ' || loads.received_on || ')' as reason

    from loads
    left join superseding
        on loads.load_id = superseding.load_id
    left join repeated
        on loads.load_id = repeated.load_id

)

select * from final
