-- The measure catalogue with how each series is computed, how the report words and
-- orders it, and its return calendar entry (a derived series takes the latest due
-- date of its component feeds).
with

measures as (

    select * from {{ ref('measures') }}

),

computation as (

    select * from {{ ref('measure_computation') }}

),

wording as (

    select * from {{ ref('measure_wording') }}

),

return_calendar as (

    select * from {{ ref('return_calendar') }}

),

-- the series police.uk street-level data can give (the police record counts of the
-- record_count_sources seed, and the crime series the offence_group_measures seed
-- maps police.uk crime types to): the only series reported for an area other than
-- the home area
policeuk_series as (

    select
        measure_id,
        series

    from {{ ref('record_count_sources') }}
    where police_record_kind is not null

    union

    select
        measure_id,
        series

    from {{ ref('offence_group_measures') }}
    where source_format = 'policeuk'

),

source_feeds as (

    select
        measures.measure_id,
        measures.series,
        unnest(string_split(measures.source, '+')) as source_feed

    from measures

),

due_days as (

    select
        source_feeds.measure_id,
        source_feeds.series,
        max(
            coalesce(return_calendar.due_days, {{ var('default_due_days') }})
        ) as due_days

    from source_feeds
    left join return_calendar
        on source_feeds.source_feed = return_calendar.source_feed
    group by source_feeds.measure_id, source_feeds.series

),

catalogue as (

    select
        measures.measure_id,
        measures.series,
        measures.theme,
        measures.title,
        measures.source,
        measures.unit,
        measures.direction,
        measures.target_rule,
        measures.owner,
        computation.method,
        computation.ytd_method,
        computation.description as method_description,
        due_days.due_days,
        computation.method = 'derived_sum' as is_derived,
        policeuk_series.measure_id is not null as has_policeuk_source,
        wording.sort_order,
        wording.noun_one,
        wording.noun_many

    from measures
    inner join computation
        on {{ same_series('measures', 'computation') }}
    inner join due_days
        on {{ same_series('measures', 'due_days') }}
    left join wording
        on {{ same_series('measures', 'wording') }}
    left join policeuk_series
        on {{ same_series('measures', 'policeuk_series') }}

)

select * from catalogue
