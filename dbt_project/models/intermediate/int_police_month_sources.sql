-- The police source used for each month, for ASB incidents and for crimes: the
-- force extract when a usable force extract covers the month, otherwise the
-- police.uk street-level file (never both, so nothing is counted twice).
with

coverage as (

    select * from {{ ref('int_feed_month_coverage') }}
    where is_covered

),

record_kinds as (

    select
        kinds.record_kind,
        kinds.force_feed_name

    from (
        values
        ('asb', 'police_asb_incidents'),
        ('crime', 'police_recorded_crime')
    ) as kinds (record_kind, force_feed_name)

),

force_extract_months as (

    select
        record_kinds.record_kind,
        coverage.fiscal_year,
        coverage.quarter,
        coverage.month_start,
        'force_extract' as source_format,
        coverage.feed_name as source_feed,
        coverage.first_delivered_at

    from coverage
    inner join record_kinds
        on coverage.feed_name = record_kinds.force_feed_name

),

policeuk_months as (

    select
        record_kinds.record_kind,
        coverage.fiscal_year,
        coverage.quarter,
        coverage.month_start,
        'policeuk' as source_format,
        coverage.feed_name as source_feed,
        coverage.first_delivered_at

    from coverage
    cross join record_kinds
    where coverage.feed_name = 'policeuk_street'

),

policeuk_only_months as (

    select policeuk_months.*

    from policeuk_months
    left join force_extract_months
        on
            policeuk_months.record_kind = force_extract_months.record_kind
            and policeuk_months.month_start = force_extract_months.month_start
    where force_extract_months.month_start is null

),

month_sources as (

    select * from force_extract_months
    union all
    select * from policeuk_only_months

)

select * from month_sources
