-- Internal arithmetic of the published year-end target statuses: the year's value
-- against the baseline, by the target rule, both as the report's own figures give them;
-- the verdict's code mapped to the words the report prints (seed target_status).
with

years_based as (

    select * from {{ ref('int_published_figures__years') }}

),

status_vocabulary as (

    select * from {{ ref('target_status') }}

),

verdicts as (

    select
        measure_id,
        series,
        fiscal_year,
        case
            when
                target_rule like 'below%' and value_base < baseline_base
                or target_rule = 'at_least_target' and value_base >= baseline_base
                or target_rule = 'above_baseline' and value_base > baseline_base
                then 'achieved'
            else 'not_achieved'
        end as status,
        'the year''s ' || {{ format_figure('value_base', 0) }}
        || ' against the baseline ' || {{ format_figure('baseline_base', 0) }}
        || ' gives' as how

    from years_based
    where
        value_base is not null
        and baseline_base is not null
        and target_rule in (
            'below_fixed_baseline', 'below_previous_year', 'at_least_target', 'above_baseline'
        )

),

internal_status_expected as (

    select
        verdicts.measure_id,
        verdicts.series,
        verdicts.fiscal_year,
        'FY' as period,
        'target_status' as figure,
        status_vocabulary.label as expected_text,
        verdicts.how

    from verdicts
    inner join status_vocabulary on verdicts.status = status_vocabulary.code

)

select * from internal_status_expected
