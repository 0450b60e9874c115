-- Target status of each area's measure series at each quarter end of the plan years
-- (from var('returns_monitored_from')); at Q4 the status is the year-end verdict.
--
-- Baseline: the measure_targets seed for the year; when it has none and the rule
-- compares with last year (below_previous_year, above_baseline), the previous
-- year's outturn.  previous_year_outturn is always shown so a seed baseline that
-- differs from the outturn stays visible.  The measure_targets seed is the home
-- area's plan: another area (CSP_AREA=all) is assessed against its own previous
-- year's outturn where the rule compares with last year, and is NOT MEASURABLE
-- otherwise.
--
-- In year (Q1-Q3) a reduce target compares the year to date with the quarters'
-- share of the baseline (quarters elapsed / 4); a rate, and a rolling 12-month
-- count, compare with the target itself.  At Q4 the share is the whole baseline.
--   reduce (below_*):  met when assessed <  comparator
--   at_least_target:   met when assessed >= comparator
--   above_baseline:    met when assessed >  comparator
-- RAG: Green when met; Amber when within var('rag_amber_tolerance_pct') % of the
-- comparator; Red beyond; Grey when not assessed.
with

facts as (

    select * from {{ ref('fct_measure_quarter') }}

),

catalogue as (

    select * from {{ ref('int_measure_catalogue') }}

),

targets as (

    select * from {{ ref('measure_targets') }}

),

home_area as (

    select * from {{ ref('int_partnership_area') }}
    where is_home_area

),

previous_outturns as (

    select
        area_code,
        measure_id,
        series,
        fiscal_year,
        ytd_value as outturn

    from facts
    where quarter = 4

),

plan_quarters as (

    select
        facts.area_code,
        facts.area_name,
        facts.measure_id,
        facts.series,
        facts.fiscal_year,
        facts.quarter,
        catalogue.target_rule,
        catalogue.ytd_method,
        facts.ytd_value as assessed_value,
        previous_outturns.outturn as previous_year_outturn,
        targets.baseline as seed_baseline,
        targets.target_value as seed_target_value

    from facts
    inner join catalogue
        on
            facts.measure_id = catalogue.measure_id
            and facts.series = catalogue.series
    left join home_area
        on facts.area_code = home_area.area_code
    left join targets
        on
            home_area.area_code is not null
            and facts.measure_id = targets.measure_id
            and facts.series = targets.series
            and facts.fiscal_year = targets.fiscal_year
    left join previous_outturns
        on
            facts.area_code = previous_outturns.area_code
            and facts.measure_id = previous_outturns.measure_id
            and facts.series = previous_outturns.series
            and cast(left(facts.fiscal_year, 4) as integer)
            = cast(left(previous_outturns.fiscal_year, 4) as integer) + 1
    where facts.fiscal_year >= '{{ var("returns_monitored_from") }}'

),

baselined as (

    select
        *,
        coalesce(
            seed_baseline,
            case
                when target_rule in ('below_previous_year', 'above_baseline')
                    then previous_year_outturn
            end
        ) as baseline,
        case
            when seed_baseline is not null then 'measure_targets'
            when
                target_rule in ('below_previous_year', 'above_baseline')
                and previous_year_outturn is not null
                then 'previous_year_outturn'
        end as baseline_source

    from plan_quarters

),

compared as (

    select
        *,
        coalesce(seed_target_value, baseline) as target_value,
        case
            when target_rule like 'below%' and ytd_method = 'sum'
                then coalesce(seed_target_value, baseline) * quarter / 4
            else coalesce(seed_target_value, baseline)
        end as comparator_value

    from baselined

),

assessed as (

    select
        *,
        case
            when target_rule like 'below%' then assessed_value < comparator_value
            when target_rule = 'at_least_target' then assessed_value >= comparator_value
            when target_rule = 'above_baseline' then assessed_value > comparator_value
        end as is_met,
        case
            when target_rule like 'below%'
                then
                    assessed_value
                    <= comparator_value * (1 + {{ var('rag_amber_tolerance_pct') }} / 100.0)
            else
                assessed_value
                >= comparator_value * (1 - {{ var('rag_amber_tolerance_pct') }} / 100.0)
        end as is_within_tolerance

    from compared

),

final as (

    select
        area_code,
        area_name,
        measure_id,
        series,
        fiscal_year,
        quarter,
        target_rule,
        baseline,
        baseline_source,
        previous_year_outturn,
        target_value,
        comparator_value,
        assessed_value,
        case
            when target_rule in ('none', 'monitor') then 'MONITOR ONLY'
            when target_rule = 'baseline_to_be_confirmed' then 'NOT MEASURABLE'
            when comparator_value is null then 'NOT MEASURABLE'
            when assessed_value is null then 'NO DATA'
            when quarter = 4 and is_met then 'ACHIEVED'
            when quarter = 4 then 'NOT ACHIEVED'
            when is_met then 'ON TRACK'
            else 'OFF TRACK'
        end as status,
        case
            when
                target_rule in ('none', 'monitor', 'baseline_to_be_confirmed')
                or comparator_value is null
                or assessed_value is null
                then 'Grey'
            when is_met then 'Green'
            when is_within_tolerance then 'Amber'
            else 'Red'
        end as rag

    from assessed

)

select * from final
