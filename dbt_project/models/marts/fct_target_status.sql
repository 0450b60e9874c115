-- Target status of each area's measure series at each quarter end of the plan years
-- (from var('returns_monitored_from')); at Q4 the status is the year-end verdict.
-- Baseline: the measure_targets seed for the year (the home area's plan); else, when
-- the rule compares with last year, the previous year's outturn (shown beside it).
-- In year a reduce target summed over the year compares with the quarters' share of
-- the baseline (quarters / 4); a rate or rolling count compares with the target.
--   reduce (below_*): met when assessed < comparator; at_least_target: >=;
--   above_baseline: >.  RAG: Green met; Amber within var('rag_amber_tolerance_pct') %.
-- Verdict basis (docs/report.md): the quarters of the year so far that were due and
-- that gave a usable figure (seed data_status).  When one is missing the verdict is
-- given from the quarters received and marked provisional (their sum against their
-- share of the baseline, their rate, or the latest of them); NO DATA only when none.
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

received as (

    select * from {{ ref('int_target_year_received') }}

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
        received.quarters_due,
        received.quarters_received,
        received.quarters_missing,
        facts.ytd_value is null and received.quarters_received > 0 as is_provisional,
        case
            when facts.ytd_value is not null then facts.ytd_value
            when received.quarters_received = 0 then null
            when catalogue.ytd_method = 'sum' then received.received_sum
            when catalogue.ytd_method = 'latest' then received.received_latest
            else received.received_rate
        end as assessed_value,
        previous_outturns.outturn as previous_year_outturn,
        targets.baseline as seed_baseline,
        targets.target_value as seed_target_value

    from facts
    inner join catalogue
        on
            facts.measure_id = catalogue.measure_id
            and facts.series = catalogue.series
    left join received
        on
            facts.area_code = received.area_code
            and facts.measure_id = received.measure_id
            and facts.series = received.series
            and facts.fiscal_year = received.fiscal_year
            and facts.quarter = received.quarter
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
                then
                    coalesce(seed_target_value, baseline)
                    * (case when is_provisional then quarters_received else quarter end)
                    / 4
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
        quarters_due,
        quarters_received,
        quarters_missing,
        coalesce(is_provisional, false) as is_provisional,
        case
            when target_rule in ('none', 'monitor', 'baseline_to_be_confirmed') then null
            when is_provisional
                then
                    'provisional: ' || quarters_received || ' of ' || quarters_due
                    || ' quarters received; no figure for ' || quarters_missing
        end as verdict_basis,
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
