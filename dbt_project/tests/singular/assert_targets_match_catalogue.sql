-- The measure_targets seed's plan-year baselines are the catalogue's: a baseline
-- changed in one place and not the other fails the build.
with

targets as (

    select * from {{ ref('measure_targets') }}

),

catalogue as (

    select
        measure_id,
        series,
        '2014/15' as fiscal_year,
        baseline_2014_15 as baseline
    from {{ ref('measures') }}
    where baseline_2014_15 is not null

    union all

    select
        measure_id,
        series,
        '2015/16' as fiscal_year,
        baseline_2015_16 as baseline
    from {{ ref('measures') }}
    where baseline_2015_16 is not null

    union all

    select
        measure_id,
        series,
        '2016/17' as fiscal_year,
        baseline_2016_17 as baseline
    from {{ ref('measures') }}
    where baseline_2016_17 is not null

),

differences as (

    select
        coalesce(targets.measure_id, catalogue.measure_id) as measure_id,
        coalesce(targets.series, catalogue.series) as series,
        coalesce(targets.fiscal_year, catalogue.fiscal_year) as fiscal_year,
        targets.baseline as target_baseline,
        catalogue.baseline as catalogue_baseline

    from targets
    full outer join catalogue
        on
            targets.measure_id = catalogue.measure_id
            and targets.series = catalogue.series
            and targets.fiscal_year = catalogue.fiscal_year
    where
        coalesce(targets.fiscal_year, catalogue.fiscal_year) in ('2014/15', '2015/16', '2016/17')
        and targets.baseline is distinct from catalogue.baseline

)

select * from differences
