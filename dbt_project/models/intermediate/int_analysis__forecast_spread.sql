-- The spread terms of the year-end forecast (fct_year_end_forecast, docs/analysis.md),
-- one row per area, target series and in-year quarter it forecasts:
--   phi                 over-dispersion of the series' quarters known by then: mean of
--                       Wheeler's z^2 / 2 (variance 2 under pure Poisson), at least 1
--   pooled_sd_relative  the pooled relative spread of the seasonal ratios of the
--                       area's target series (year to date a sum) at the same quarter
--                       over the years before the forecast's year:
--                       sqrt(sum (ratio / series mean - 1)^2 / sum (years - 1)), over
--                       series with two years or more.  The forecast never uses a
--                       series' own spread below it: two or three years of one series
--                       cannot tell how much a year can surprise, the series together can.
with

history as (

    select * from {{ ref('int_analysis__quarter_history') }}

),

targets as (

    select * from {{ ref('fct_target_status') }}
    where quarter <= 3 and target_rule in ({{ forecast_target_rules() }})

),

measures as (

    select * from {{ ref('dim_measure') }}

),

dispersion as (

    select
        targets.area_code,
        targets.measure_id,
        targets.series,
        targets.fiscal_year,
        targets.quarter,
        greatest(1.0, coalesce(avg(quarter_changes.z2_half), 1.0)) as phi

    from targets
    left join history as quarter_changes
        on
            targets.area_code = quarter_changes.area_code
            and targets.measure_id = quarter_changes.measure_id
            and targets.series = quarter_changes.series
            and cast(left(targets.fiscal_year, 4) as integer) * 4 + targets.quarter
            >= quarter_changes.year_start * 4 + quarter_changes.quarter
    group by all

),

target_series as (

    select distinct
        targets.area_code,
        targets.measure_id,
        targets.series

    from targets
    inner join measures
        on
            targets.area_code = measures.area_code
            and targets.measure_id = measures.measure_id
            and targets.series = measures.series
    where measures.ytd_method = 'sum'

),

forecast_quarters as (

    select distinct
        area_code,
        fiscal_year,
        quarter,
        cast(left(fiscal_year, 4) as integer) as year_start

    from targets

),

pooled_ratios as (

    select
        forecast_quarters.area_code,
        forecast_quarters.fiscal_year,
        forecast_quarters.quarter,
        history.measure_id,
        history.series,
        history.ratio_to_outturn,
        avg(history.ratio_to_outturn) over by_series as series_mean,
        count(*) over by_series as series_years

    from forecast_quarters
    inner join history
        on
            forecast_quarters.area_code = history.area_code
            and forecast_quarters.quarter = history.quarter
            and forecast_quarters.year_start > history.year_start
            and history.ratio_to_outturn is not null
    inner join target_series
        on
            history.area_code = target_series.area_code
            and history.measure_id = target_series.measure_id
            and history.series = target_series.series
    window by_series as (
        partition by
            forecast_quarters.area_code, forecast_quarters.fiscal_year,
            forecast_quarters.quarter, history.measure_id, history.series
    )

),

pooled as (

    select
        area_code,
        fiscal_year,
        quarter,
        sqrt(
            sum(pow(ratio_to_outturn / series_mean - 1, 2))
            / nullif(count(*) - count(distinct measure_id || '|' || series), 0)
        ) as pooled_sd_relative

    from pooled_ratios
    where series_years >= 2
    group by all

),

final as (

    select
        dispersion.*,
        round(pooled.pooled_sd_relative, 6) as pooled_sd_relative

    from dispersion
    left join pooled
        on {{ columns_equal('dispersion', 'pooled', ['area_code', 'fiscal_year', 'quarter']) }}

)

select * from final
