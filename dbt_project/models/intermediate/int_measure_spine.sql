-- Every area's catalogue series for every fiscal quarter from the first quarter of
-- the first fiscal year any feed delivered data for (the plan's first year at the
-- latest), to the last quarter ended on the as-of date, with its due date.  The
-- home area has the whole catalogue; another area (CSP_AREA=all) only the series
-- police.uk data can give (has_policeuk_source): it never signed up for the
-- council, partner and force-extract series, so they are not missing there.
with

partnership_area as (

    select * from {{ ref('int_partnership_area') }}

),

catalogue as (

    select * from {{ ref('int_measure_catalogue') }}

),

fiscal_quarters as (

    select * from {{ ref('fiscal_calendar') }}

),

coverage as (

    select * from {{ ref('int_feed_month_coverage') }}

),

-- the plan's first year at the latest, so that a warehouse without data yet still
-- lists every return as missing
first_year as (

    select
        least(
            coalesce(min(fiscal_year), '{{ var("returns_monitored_from") }}'),
            '{{ var("returns_monitored_from") }}'
        ) as fiscal_year

    from coverage

),

reporting_quarters as (

    select fiscal_quarters.*

    from fiscal_quarters
    inner join first_year
        on fiscal_quarters.fiscal_year >= first_year.fiscal_year
    where fiscal_quarters.period_end <= {{ as_of_date() }}

),

spine as (

    select
        partnership_area.area_code,
        partnership_area.area_name,
        partnership_area.is_home_area,
        catalogue.measure_id,
        catalogue.series,
        reporting_quarters.fiscal_year,
        reporting_quarters.fiscal_year_start,
        reporting_quarters.quarter,
        reporting_quarters.period_start,
        reporting_quarters.period_end,
        reporting_quarters.period_end + catalogue.due_days as due_date

    from catalogue
    cross join reporting_quarters
    inner join partnership_area
        on partnership_area.is_home_area or catalogue.has_policeuk_source

)

select * from spine
