-- The published quarters, one row per series, year and quarter (every quarter of a
-- year the report covers), with what the report's own figures give for the year to
-- date: the published quarters summed, else the previous quarter's year to date plus
-- the quarter (the *_base columns: the published figure, else the derived one).
with

wide as (

    select * from {{ ref('int_published_figures__wide') }}

),

series_years as (

    select distinct
        measure_id,
        series,
        fiscal_year,
        fiscal_year_start,
        ytd_method,
        target_rule

    from wide

),

quarter_grid as (

    select
        series_years.*,
        quarters.quarter

    from series_years
    cross join (values (1), (2), (3), (4)) as quarters (quarter)

),

quarters as (

    select
        quarter_grid.*,
        wide.value,
        wide.last_year_value,
        wide.change,
        wide.ytd_value,
        wide.ytd_last_year,
        wide.ytd_change,
        count(wide.value) over year_so_far as values_so_far,
        sum(wide.value) over year_so_far as sum_values,
        count(wide.last_year_value) over year_so_far as last_years_so_far,
        sum(wide.last_year_value) over year_so_far as sum_last_years,
        lag(wide.ytd_value) over year_by_quarter as previous_ytd_value,
        lag(wide.ytd_last_year) over year_by_quarter as previous_ytd_last_year

    from quarter_grid
    left join wide
        on
            quarter_grid.measure_id = wide.measure_id
            and quarter_grid.series = wide.series
            and quarter_grid.fiscal_year = wide.fiscal_year
            and wide.period = 'Q' || quarter_grid.quarter
    window
        year_by_quarter as (
            partition by quarter_grid.measure_id, quarter_grid.series, quarter_grid.fiscal_year
            order by quarter_grid.quarter
        ),
        year_so_far as (
            partition by quarter_grid.measure_id, quarter_grid.series, quarter_grid.fiscal_year
            order by quarter_grid.quarter
            rows between unbounded preceding and current row
        )

),

quarters_derived as (

    select
        *,
        {{ derived_ytd(
            'derived_ytd_value', 'value', 'values_so_far', 'sum_values', 'previous_ytd_value',
            which='', ytd_which=''
        ) }},
        {{ derived_ytd(
            'derived_ytd_last_year', 'last_year_value', 'last_years_so_far', 'sum_last_years',
            'previous_ytd_last_year', which='last-year ', ytd_which=' last year'
        ) }}

    from quarters

),

quarters_based as (

    select
        *,
        coalesce(ytd_value, derived_ytd_value) as ytd_value_base,
        coalesce(
            ytd_last_year,
            derived_ytd_last_year,
            coalesce(ytd_value, derived_ytd_value) - ytd_change
        ) as ytd_last_year_base

    from quarters_derived

)

select * from quarters_based
