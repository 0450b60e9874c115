-- The published years, one row per series and fiscal year, with what the report's
-- own figures give for the year: the four quarters summed, else Q3's year to date
-- plus Q4, else the next year's last-year figure (Q4 for rolling figures); last year
-- from the quarters or the previous year's outturn; the baseline from the report or
-- the measure_targets seed (the *_base columns).
with

wide as (

    select * from {{ ref('int_published_figures__wide') }}

),

quarters_based as (

    select * from {{ ref('int_published_figures__quarters') }}

),

targets as (

    select * from {{ ref('measure_targets') }}

),

-- the series-year columns of the quarters grid, one row per series and year
series_years as (

    select columns('^(measure_id|series|fiscal_year|fiscal_year_start|ytd_method|target_rule)$')
    from quarters_based
    where quarter = 4

),

years as (

    select
        series_years.*,
        this_year.value,
        this_year.last_year_value,
        this_year.baseline,
        q4.value as q4_value,
        q4.last_year_value as q4_last_year_value,
        q4.values_so_far as q4_values_published,
        q4.sum_values as q4_sum_values,
        q4.ytd_last_year_base as q4_ytd_last_year_base,
        q3.ytd_value_base as q3_ytd_value_base,
        next_year.last_year_value as next_year_last_year_value,
        next_q4.ytd_last_year_base as next_year_q4_ytd_last_year_base,
        next_q4.last_year_value as next_year_q4_last_year_value,
        previous_year.value as previous_year_value

    from series_years
    left join wide as this_year
        on
            series_years.measure_id = this_year.measure_id
            and series_years.series = this_year.series
            and series_years.fiscal_year = this_year.fiscal_year
            and this_year.period = 'FY'
    left join quarters_based as q4
        on
            series_years.measure_id = q4.measure_id
            and series_years.series = q4.series
            and series_years.fiscal_year = q4.fiscal_year
            and q4.quarter = 4
    left join quarters_based as q3
        on
            series_years.measure_id = q3.measure_id
            and series_years.series = q3.series
            and series_years.fiscal_year = q3.fiscal_year
            and q3.quarter = 3
    left join wide as next_year
        on
            series_years.measure_id = next_year.measure_id
            and series_years.series = next_year.series
            and series_years.fiscal_year_start + 1 = next_year.fiscal_year_start
            and next_year.period = 'FY'
    left join quarters_based as next_q4
        on
            series_years.measure_id = next_q4.measure_id
            and series_years.series = next_q4.series
            and series_years.fiscal_year_start + 1 = next_q4.fiscal_year_start
            and next_q4.quarter = 4
    left join wide as previous_year
        on
            series_years.measure_id = previous_year.measure_id
            and series_years.series = previous_year.series
            and series_years.fiscal_year_start - 1 = previous_year.fiscal_year_start
            and previous_year.period = 'FY'

),

years_derived as (

    select
        *,
        case
            when ytd_method = 'latest' then q4_value
            when ytd_method = 'sum' and q4_values_published = 4 then q4_sum_values
            when ytd_method = 'sum' then q3_ytd_value_base + q4_value
        end as quarters_outturn,
        case
            when ytd_method = 'latest' then 'the Q4 figure is'
            when ytd_method = 'sum' and q4_values_published = 4
                then 'the published quarters add up to'
            else 'the Q3 year to date plus Q4 gives'
        end as quarters_outturn_how,
        case
            when ytd_method = 'latest'
                then coalesce(next_year_last_year_value, next_year_q4_last_year_value)
            when ytd_method = 'sum'
                then coalesce(next_year_last_year_value, next_year_q4_ytd_last_year_base)
        end as next_year_outturn,
        case
            when ytd_method = 'latest' then q4_last_year_value
            when ytd_method = 'sum' then q4_ytd_last_year_base
        end as quarters_last_year

    from years

),

years_based as (

    select
        years_derived.*,
        coalesce(
            years_derived.value,
            years_derived.quarters_outturn,
            years_derived.next_year_outturn
        ) as value_base,
        coalesce(
            years_derived.last_year_value,
            years_derived.quarters_last_year,
            years_derived.previous_year_value
        ) as last_year_base,
        coalesce(years_derived.baseline, targets.baseline) as baseline_base

    from years_derived
    left join targets
        on
            years_derived.measure_id = targets.measure_id
            and years_derived.series = targets.series
            and years_derived.fiscal_year = targets.fiscal_year

)

select * from years_based
