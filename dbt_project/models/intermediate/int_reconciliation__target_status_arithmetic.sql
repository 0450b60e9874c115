-- Internal arithmetic of the published year-end target statuses: the year's value
-- against the baseline, by the target rule, both as the report's own figures give them.
with

years_based as (

    select * from {{ ref('int_published_figures__years') }}

),

internal_status_expected as (

    select
        measure_id,
        series,
        fiscal_year,
        'FY' as period,
        'target_status' as figure,
        case
            when
                target_rule like 'below%' and value_base < baseline_base
                or target_rule = 'at_least_target' and value_base >= baseline_base
                or target_rule = 'above_baseline' and value_base > baseline_base
                then 'ACHIEVED'
            else 'NOT ACHIEVED'
        end as expected_text,
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

)

select * from internal_status_expected
