-- Year-end forecast against target (target profiling), per area, series with an
-- annual target and in-year quarter (Q1-Q3) of every year (earlier years too: with
-- their real outturn they are the backtest).  Method (docs/analysis.md), for series
-- whose year to date is a sum of quarters:
--   ratio_y      outturn_y / year-to-date_y at the same quarter, for each previous
--                year y with both usable (the seasonal profile of past years)
--   forecast     year to date x mean(ratio_y) over the n previous years
--   phi          over-dispersion of the series' quarters: mean of Wheeler's z^2 / 2
--                over its quarters known by then (z = 2(sqrt(q) - sqrt(q last
--                year)) has variance 2 under pure Poisson), at least 1
--   spread       relative spread of the seasonal ratios: the series' own, sd(ratio_y) /
--                mean(ratio_y), but never below the pooled one of the area's target
--                series at the same quarter over the same previous years
--                (sqrt(sum (ratio / series mean - 1)^2 / sum (years - 1)), series with
--                two years or more): two or three years of one series cannot tell
--                how much a year can surprise, the series together can
--   80 % interval  forecast +/- sqrt((t(n-1) forecast spread sqrt(1 + 1/n))^2
--                + 1.2816^2 phi m (forecast - ytd)): the spread of past profiles (t
--                quantile, n-1 df) plus over-dispersed Poisson noise of the m = 4 - q
--                quarters still to come, taken as moving together (a level shift
--                moves every remaining quarter: variance m times their sum's)
--   probability  of meeting the target: normal with sd = half-width / 1.2816
-- Figures rounded to 6 decimal places.  Needs two previous years; rates and rolling
-- figures are not forecast (a note says so).
with

history as (

    select * from {{ ref('int_analysis__quarter_history') }}

),

targets as (

    select * from {{ ref('fct_target_status') }}
    where
        quarter <= 3
        and target_rule in ({{ forecast_target_rules() }})

),

measures as (

    select * from {{ ref('dim_measure') }}

),

spread as (

    select * from {{ ref('int_analysis__forecast_spread') }}

),

profiled as (

    select
        targets.area_code,
        targets.area_name,
        targets.measure_id,
        targets.series,
        targets.fiscal_year,
        targets.quarter,
        targets.target_rule,
        targets.target_value_year as target_value,
        measures.ytd_method,
        targets.assessed_value as ytd_value,
        count(history.ratio_to_outturn) as profile_years,
        avg(history.ratio_to_outturn) as mean_ratio,
        stddev_samp(history.ratio_to_outturn) as sd_ratio,
        min(history.year_start) as first_profile_year,
        spread.phi,
        spread.pooled_sd_relative

    from targets
    inner join spread
        on {{ same_series_quarter('targets', 'spread') }}
    inner join measures
        on {{ same_series('targets', 'measures', with_area=true) }}
    left join history
        on
            targets.area_code = history.area_code
            and targets.measure_id = history.measure_id
            and targets.series = history.series
            and targets.quarter = history.quarter
            and history.year_start < cast(left(targets.fiscal_year, 4) as integer)
            and history.ratio_to_outturn is not null
    group by all

),

forecast as (

    select
        *,
        case
            when ytd_method = 'sum' and ytd_value is not null and profile_years >= 2
                then ytd_value * mean_ratio
        end as forecast_value,
        greatest(sd_ratio / nullif(mean_ratio, 0), coalesce(pooled_sd_relative, 0))
            as spread_relative

    from profiled

),

interval as (

    select
        *,
        sqrt(
            pow(
                {{ t_80('profile_years - 1') }}
                * forecast_value
                * spread_relative
                * sqrt(1 + 1.0 / profile_years),
                2
            )
            + pow({{ z_80() }}, 2) * phi * (4 - quarter)
            * greatest(forecast_value - ytd_value, 0)
        ) as half_width

    from forecast

),

probability as (

    select
        *,
        case
            when forecast_value is null then null
            when half_width = 0
                then
                    case
                        when
                            target_rule like 'below%'
                            then cast((forecast_value < target_value) as integer)
                        when
                            target_rule = 'at_least_target'
                            then cast((forecast_value >= target_value) as integer)
                        else cast((forecast_value > target_value) as integer)
                    end
            when target_rule like 'below%' then {{ normal_cdf('target_z') }}
            else 1 - {{ normal_cdf('target_z') }}
        end as probability_of_meeting_target

    from (
        -- the target in standard deviations (half-width / 1.2816) from the forecast
        select
            *,
            (target_value - forecast_value) / nullif(half_width / {{ z_80() }}, 0) as target_z
        from interval
    ) as standardised

),

outturns as (

    select
        area_code,
        measure_id,
        series,
        year_start,
        outturn

    from history
    where quarter = 4 and outturn is not null

),

final as (

    select
        {{ measure_key('probability.area_code', 'probability.measure_id', 'probability.series') }}
            as measure_key,
        {{ quarter_key_of('probability.fiscal_year', 'probability.quarter') }} as quarter_key,
        probability.area_code as area_key,
        probability.area_code,
        probability.area_name,
        probability.measure_id,
        probability.series,
        probability.fiscal_year,
        probability.quarter,
        probability.target_rule,
        probability.target_value as target_value_year,
        probability.ytd_value,
        cast(probability.profile_years as integer) as profile_years,
        round(probability.mean_ratio, 6) as seasonal_ratio,
        round(probability.phi, 6) as overdispersion_phi,
        round(probability.pooled_sd_relative, 6) as pooled_ratio_spread,
        round(probability.spread_relative, 6) as ratio_spread_used,
        round(probability.forecast_value, 6) as forecast_value,
        case when probability.forecast_value is not null then round(
            greatest(probability.ytd_value, probability.forecast_value - probability.half_width), 6
        ) end as lower_80,
        round(probability.forecast_value + probability.half_width, 6) as upper_80,
        round(probability.probability_of_meeting_target, 6) as probability_of_meeting_target,
        case
            when probability.probability_of_meeting_target is null then null
            when probability.probability_of_meeting_target >= 0.5 then 'likely to meet the target'
            else 'likely to miss the target'
        end as forecast_status,
        outturns.outturn as actual_outturn,
        case
            when outturns.outturn is not null and probability.forecast_value is not null
                then
                    outturns.outturn between
                    greatest(
                        probability.ytd_value, probability.forecast_value - probability.half_width
                    )
                    and probability.forecast_value + probability.half_width
        end as is_outturn_within_80,
        case
            when probability.ytd_method <> 'sum'
                then 'not forecast: a rate or rolling figure has no seasonal profile of quarters'
            when probability.ytd_value is null then 'not forecast: no usable year to date'
            when probability.profile_years < 2
                then 'not forecast: fewer than two previous years with usable quarters'
            else
                'year to date x mean seasonal ratio of '
                || probability.profile_years || ' previous years from '
                || probability.first_profile_year || '/'
                || lpad(cast(((probability.first_profile_year + 1) % 100) as varchar), 2, '0')
        end as forecast_note

    from probability
    left join outturns
        on
            probability.area_code = outturns.area_code
            and probability.measure_id = outturns.measure_id
            and probability.series = outturns.series
            and cast(left(probability.fiscal_year, 4) as integer) = outturns.year_start

)

select * from final
