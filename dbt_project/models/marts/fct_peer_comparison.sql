-- Each authority's police.uk rate per 1,000 residents against its peer group
-- (dim_peer_group) and England and Wales, per series and period (quarter and
-- rolling 12 months), with funnel-plot control limits (docs/analysis.md):
--   target       the peers' population-weighted rate theta (sum of counts over sum
--                of populations); the peers with a missing police.uk month in the
--                period are left out (not counted as zero)
--   se_i         sqrt(1000 theta / population_i): Poisson variation of a rate
--   over-dispersion (Spiegelhalter 2005, additive random effects): the peers'
--                z_j = (rate_j - theta) / se_j winsorised at their 10th and 90th
--                percentiles, phi = mean(z_j^2) over the I peers, tau^2 =
--                max(0, (I phi - (I - 1)) / (sum w - sum w^2 / sum w)), w = 1/se^2
--   limits       theta +/- z sqrt(se_i^2 + tau^2), z 1.96 (95 %) and 3.09 (99.8 %)
-- Label at the 99.8 % limits.  Rates and limits are rounded to 6 decimal places.
-- Empty until the national data is loaded.
{%- set period_keys = [
    'area_code', 'measure_id', 'series', 'period_type', 'fiscal_year', 'quarter'
] %}

with

rates as (

    select * from {{ ref('fct_policeuk_rate') }}

),

peer_groups as (

    select * from {{ ref('dim_peer_group') }}

),

peer_rates as (

    select
        peer_groups.area_code,
        rates.measure_id,
        rates.series,
        rates.period_type,
        rates.fiscal_year,
        rates.quarter,
        rates.record_count,
        rates.population,
        rates.rate_per_1000

    from peer_groups
    inner join rates
        on peer_groups.peer_area_code = rates.area_code
    where rates.is_complete

),

peer_target as (

    select
        area_code,
        measure_id,
        series,
        period_type,
        fiscal_year,
        quarter,
        count(*) as peers_used,
        avg(rate_per_1000) as peer_mean_rate,
        1000.0 * sum(record_count) / sum(population) as peer_weighted_rate

    from peer_rates
    group by all

),

peer_z as (

    select
        peer_rates.*,
        peer_target.peer_weighted_rate,
        {{ poisson_rate_se('peer_target.peer_weighted_rate', 'peer_rates.population') }} as se,
        (peer_rates.rate_per_1000 - peer_target.peer_weighted_rate) / nullif(
            {{ poisson_rate_se('peer_target.peer_weighted_rate', 'peer_rates.population') }}, 0
        ) as z

    from peer_rates
    inner join peer_target
        on
            {{ columns_equal('peer_rates', 'peer_target', period_keys) }}

),

winsorised as (

    select
        *,
        least(
            greatest(z, quantile_cont(z, 0.1) over per_group),
            quantile_cont(z, 0.9) over per_group
        ) as z_winsorised

    from peer_z
    window per_group as (
        partition by area_code, measure_id, series, period_type, fiscal_year, quarter
    )

),

dispersion as (

    select
        area_code,
        measure_id,
        series,
        period_type,
        fiscal_year,
        quarter,
        avg(z_winsorised * z_winsorised) as phi,
        count(*) as peers_used,
        sum(1 / (se * se)) as sum_w,
        sum(1 / (se * se * se * se)) as sum_w2

    from winsorised
    where se > 0
    group by all

),

national as (

    select
        measure_id,
        series,
        period_type,
        fiscal_year,
        quarter,
        count(*) as national_areas_used,
        1000.0 * sum(record_count) / sum(population) as national_rate

    from rates
    where is_complete
    group by all

),

compared as (

    select
        rates.*,
        peer_target.peers_used,
        peer_target.peer_mean_rate,
        peer_target.peer_weighted_rate,
        national.national_rate,
        national.national_areas_used,
        dispersion.phi,
        case
            when dispersion.peers_used >= 2 and dispersion.sum_w > 0
                then greatest(
                    0.0,
                    (dispersion.peers_used * dispersion.phi - (dispersion.peers_used - 1))
                    / (dispersion.sum_w - dispersion.sum_w2 / dispersion.sum_w)
                )
            else 0.0
        end as tau2,
        {{ poisson_rate_se('peer_target.peer_weighted_rate', 'rates.population') }} as se

    from rates
    left join peer_target
        on
            {{ columns_equal('rates', 'peer_target', period_keys) }}
    left join dispersion
        on
            {{ columns_equal('rates', 'dispersion', period_keys) }}
    left join national
        on
            {{ columns_equal('rates', 'national', period_keys[1:]) }}
    where rates.area_code in (select peer_groups.area_code from peer_groups)

),

limits as (

    select
        *,
        {{ funnel_limit('peer_weighted_rate', 'se', 'tau2', z_95(), '-') }} as lower_95,
        {{ funnel_limit('peer_weighted_rate', 'se', 'tau2', z_95(), '+') }} as upper_95,
        {{ funnel_limit('peer_weighted_rate', 'se', 'tau2', z_998(), '-') }} as lower_998,
        {{ funnel_limit('peer_weighted_rate', 'se', 'tau2', z_998(), '+') }} as upper_998

    from compared

),

final as (

    select
        {{ measure_key('area_code', 'measure_id', 'series') }}
            as measure_key,
        {{ quarter_key_of('fiscal_year', 'quarter') }} as quarter_key,
        area_code as area_key,
        area_code,
        area_name,
        measure_id,
        series,
        crime_type,
        period_type,
        fiscal_year,
        quarter,
        period_start,
        period_end,
        is_complete,
        record_count,
        population,
        rate_per_1000,
        cast(coalesce(peers_used, 0) as integer) as peers_used,
        round(peer_mean_rate, 6) as peer_mean_rate,
        round(peer_weighted_rate, 6) as peer_weighted_rate,
        round(national_rate, 6) as national_rate,
        cast(national_areas_used as integer) as national_areas_used,
        round(phi, 6) as overdispersion_phi,
        round(tau2, 6) as overdispersion_tau2,
        round(lower_95, 6) as lower_95,
        round(upper_95, 6) as upper_95,
        round(lower_998, 6) as lower_998,
        round(upper_998, 6) as upper_998,
        case
            when not is_complete then 'not assessed: missing police.uk month'
            when coalesce(peers_used, 0) < 2 then 'not assessed: too few peers with complete data'
            when rate_per_1000 > upper_998 then 'significantly higher than peers'
            when rate_per_1000 < lower_998 then 'significantly lower than peers'
            else 'within the expected range'
        end as peer_comparison,
        case
            when not is_complete or coalesce(peers_used, 0) < 2 then null
            when rate_per_1000 > upper_998 then 'above 99.8 %'
            when rate_per_1000 > upper_95 then 'above 95 %'
            when rate_per_1000 < lower_998 then 'below 99.8 %'
            when rate_per_1000 < lower_95 then 'below 95 %'
            else 'inside 95 %'
        end as funnel_band

    from limits

)

select * from final
