-- Baselines and target levels per area, measure series and plan year (seed
-- measure_targets, long: a new plan year is a row, not a column), on the year
-- grain, keyed like the other facts.
with

targets as (

    select * from {{ ref('measure_targets') }}

),

measures as (

    select * from {{ ref('dim_measure') }}

),

final as (

    select
        measures.measure_key,
        measures.area_key,
        measures.area_code,
        measures.measure_id,
        measures.series,
        targets.fiscal_year as plan_year,
        targets.baseline,
        targets.target_value as target_value_year,
        targets.note

    from targets
    inner join measures
        on
            targets.measure_id = measures.measure_id
            and targets.series = measures.series

)

select * from final
