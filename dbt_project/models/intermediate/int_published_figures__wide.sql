-- The published figures side by side: one row per series and period (Q1-Q4, FY).
with

published as (

    select * from {{ ref('int_published_figures') }}

),

wide as (

    select
        measure_id,
        series,
        fiscal_year,
        fiscal_year_start,
        period,
        any_value(ytd_method) as ytd_method,
        any_value(target_rule) as target_rule,
        max(published_value) filter (where figure = 'value') as value,
        max(published_value) filter (where figure = 'last_year_value') as last_year_value,
        max(published_value) filter (where figure = 'change') as change,
        max(published_value) filter (where figure = 'ytd_value') as ytd_value,
        max(published_value) filter (where figure = 'ytd_last_year') as ytd_last_year,
        max(published_value) filter (where figure = 'ytd_change') as ytd_change,
        max(published_value) filter (where figure = 'baseline') as baseline

    from published
    where ytd_method is not null
    group by measure_id, series, fiscal_year, fiscal_year_start, period

)

select * from wide
