-- The police source used for each area and month, for ASB incidents and for
-- crimes: the force extract when a usable force extract covers the month (the
-- force extracts belong to the home area), otherwise the police.uk street-level
-- data of the area (never both, so nothing is counted twice).
with

coverage as (

    select * from {{ ref('int_feed_month_coverage') }}
    where is_covered

),

partnership_area as (

    select * from {{ ref('int_partnership_area') }}

),

home_area as (

    select * from partnership_area
    where is_home_area

),

load_counts as (

    select * from {{ ref('base_policeuk__load_counts') }}

),

delivered_loads as (

    select * from {{ ref('stg_ingest__load_log') }}
    where is_delivered

),

fiscal_months as (

    select * from {{ ref('int_fiscal_months') }}

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
        home_area.area_code,
        home_area.area_name,
        coverage.fiscal_year,
        coverage.quarter,
        coverage.month_start,
        'force_extract' as source_format,
        coverage.feed_name as source_feed,
        coverage.first_delivered_at

    from coverage
    inner join record_kinds
        on coverage.feed_name = record_kinds.force_feed_name
    cross join home_area

),

-- a police.uk month covers an area when a delivered load holds rows of the area
-- for it; first delivered counts superseded loads too (as for every feed)
policeuk_area_months as (

    select
        partnership_area.area_code,
        partnership_area.area_name,
        load_counts.record_month as month_start,
        bool_or(delivered_loads.is_usable) as is_covered,
        min(delivered_loads.received_at) as first_delivered_at

    from load_counts
    inner join delivered_loads
        on load_counts.load_id = delivered_loads.load_id
    inner join partnership_area
        on load_counts.area_code = partnership_area.area_code
    group by partnership_area.area_code, partnership_area.area_name, load_counts.record_month

),

policeuk_months as (

    select
        record_kinds.record_kind,
        policeuk_area_months.area_code,
        policeuk_area_months.area_name,
        fiscal_months.fiscal_year,
        fiscal_months.quarter,
        policeuk_area_months.month_start,
        'policeuk' as source_format,
        'policeuk_street' as source_feed,
        policeuk_area_months.first_delivered_at

    from policeuk_area_months
    inner join fiscal_months
        on policeuk_area_months.month_start = fiscal_months.month_start
    cross join record_kinds
    where policeuk_area_months.is_covered

),

policeuk_only_months as (

    select policeuk_months.*

    from policeuk_months
    left join force_extract_months
        on
            policeuk_months.record_kind = force_extract_months.record_kind
            and policeuk_months.area_code = force_extract_months.area_code
            and policeuk_months.month_start = force_extract_months.month_start
    where force_extract_months.month_start is null

),

month_sources as (

    select * from force_extract_months
    union all
    select * from policeuk_only_months

)

select * from month_sources
