-- Target status of each area's measure series at each quarter end of the plan years
-- (from var('returns_monitored_from')); at Q4 the year-end verdict.  The rules (the
-- comparator, RAG, provisional verdicts, target_value_quarter) are in the model's
-- YAML and docs/report.md; status and rag are codes of the seeds target_status and
-- rag, their labels beside them.
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
        on {{ same_series('facts', 'catalogue') }}
    left join received
        on {{ same_series_quarter('facts', 'received') }}
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
        coalesce(seed_target_value, baseline) as target_value_year,
        case
            when ytd_method = 'sum' then coalesce(seed_target_value, baseline) / 4
            else coalesce(seed_target_value, baseline)
        end as target_value_quarter,
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

statused as (

    select
        {{ measure_key('area_code', 'measure_id', 'series') }} as measure_key,
        {{ quarter_key_of('fiscal_year', 'quarter') }} as quarter_key,
        area_code as area_key,
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
        target_value_year,
        target_value_quarter,
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
            when target_rule in ('none', 'monitor') then 'monitor_only'
            when target_rule = 'baseline_to_be_confirmed' then 'not_measurable'
            when comparator_value is null then 'not_measurable'
            when assessed_value is null then 'no_data'
            when quarter = 4 and is_met then 'achieved'
            when quarter = 4 then 'not_achieved'
            when is_met then 'on_track'
            else 'off_track'
        end as status,
        case
            when
                target_rule in ('none', 'monitor', 'baseline_to_be_confirmed')
                or comparator_value is null
                or assessed_value is null
                then 'grey'
            when is_met then 'green'
            when is_within_tolerance then 'amber'
            else 'red'
        end as rag

    from assessed

),

final as (

    select
        statused.*,
        status_vocabulary.label as status_label,
        rag_vocabulary.label as rag_label

    from statused
    left join {{ ref('target_status') }} as status_vocabulary
        on statused.status = status_vocabulary.code
    left join {{ ref('rag') }} as rag_vocabulary on statused.rag = rag_vocabulary.code

)

select * from final
