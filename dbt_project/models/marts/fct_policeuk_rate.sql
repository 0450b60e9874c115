-- The rate mart: rates per 1,000 residents of every authority in the police.uk data, for each
-- catalogue series police.uk can give (int_analysis__policeuk_series), per fiscal
-- quarter and per rolling 12 months to each quarter end.  Counts are police.uk
-- street-level rows only (base_policeuk__street_counts, the latest load of each
-- force and month), never the home area's force extract, so every authority is
-- counted the same way.  Population: the ons_population seed (one estimate year).
-- A month with no police.uk row for the authority is missing (months_present <
-- months_expected, is_complete false): its rate is shown but must not be compared.
-- Periods run from the first to the last month in the police.uk data.
{%- set period_keys = [
    'area_code', 'measure_id', 'series', 'period_type', 'fiscal_year', 'quarter'
] %}

with

street_counts as (

    select * from {{ ref('base_policeuk__street_counts') }}

),

series_map as (

    select * from {{ ref('int_analysis__policeuk_series') }}

),

population as (

    select * from {{ ref('ons_population') }}

),

quarters as (

    select * from {{ ref('fiscal_calendar') }}

),

data_range as (

    select
        min(record_month) as first_month,
        max(record_month) as last_month

    from street_counts

),

areas as (

    select distinct area_code from street_counts

),

area_months as (

    select distinct
        area_code,
        record_month

    from street_counts

),

monthly as (

    select
        street_counts.area_code,
        series_map.measure_id,
        series_map.series,
        street_counts.record_month,
        sum(street_counts.record_count) as record_count

    from street_counts
    inner join series_map
        on street_counts.crime_type = series_map.crime_type
    group by all

),

-- quarters (3 months) and rolling 12 months to a quarter end, inside the data
periods as (

    select
        period_type.period_type,
        quarters.fiscal_year,
        quarters.quarter,
        case
            when period_type.period_type = 'quarter' then quarters.period_start
            else cast(quarters.period_end - interval 12 month + interval 1 day as date)
        end as period_start,
        quarters.period_end,
        case when period_type.period_type = 'quarter' then 3 else 12 end as months_expected

    from quarters
    cross join (values ('quarter'), ('rolling_12_months')) as period_type (period_type)

),

periods_in_data as (

    select periods.*

    from periods
    cross join data_range
    where
        periods.period_start >= data_range.first_month
        and periods.period_end <= last_day(data_range.last_month)

),

grid as (

    select
        areas.area_code,
        series_map.measure_id,
        series_map.series,
        series_map.crime_type,
        series_map.is_approximation,
        periods_in_data.*

    from areas
    cross join series_map
    cross join periods_in_data

),

months_present as (

    select
        grid.area_code,
        grid.measure_id,
        grid.series,
        grid.period_type,
        grid.fiscal_year,
        grid.quarter,
        count(area_months.record_month) as months_present

    from grid
    left join area_months
        on
            grid.area_code = area_months.area_code
            and area_months.record_month between grid.period_start and grid.period_end
    group by all

),

counted as (

    select
        grid.area_code,
        grid.measure_id,
        grid.series,
        grid.period_type,
        grid.fiscal_year,
        grid.quarter,
        coalesce(sum(monthly.record_count), 0) as record_count

    from grid
    left join monthly
        on
            grid.area_code = monthly.area_code
            and grid.measure_id = monthly.measure_id
            and grid.series = monthly.series
            and monthly.record_month between grid.period_start and grid.period_end
    group by all

),

final as (

    select
        {{ measure_key('grid.area_code', 'grid.measure_id', 'grid.series') }}
            as measure_key,
        {{ quarter_key_of('grid.fiscal_year', 'grid.quarter') }} as quarter_key,
        grid.area_code as area_key,
        grid.area_code,
        population.area_name,
        grid.measure_id,
        grid.series,
        grid.crime_type,
        grid.is_approximation,
        grid.period_type,
        grid.fiscal_year,
        grid.quarter,
        grid.period_start,
        grid.period_end,
        grid.months_expected,
        cast(months_present.months_present as integer) as months_present,
        months_present.months_present = grid.months_expected as is_complete,
        cast(counted.record_count as bigint) as record_count,
        population.population,
        population.year as population_year,
        1000.0 * counted.record_count / population.population as rate_per_1000

    from grid
    inner join months_present
        on
            {{ columns_equal('grid', 'months_present', period_keys) }}
    inner join counted
        on
            {{ columns_equal('grid', 'counted', period_keys) }}
    inner join population
        on grid.area_code = population.area_code

)

select * from final
