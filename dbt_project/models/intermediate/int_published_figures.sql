-- The published 2016/17 report's figures (seed published_figures), long: one row
-- per figure it states, typed, with the series' year-to-date method and target rule.
with

published_source as (

    select * from {{ ref('published_figures') }}

),

catalogue as (

    select * from {{ ref('int_measure_catalogue') }}

),

published as (

    select
        published_source.measure_id,
        published_source.series,
        published_source.fiscal_year,
        cast(left(published_source.fiscal_year, 4) as integer) as fiscal_year_start,
        published_source.period,
        published_source.figure,
        published_source.value as published_text,
        try_cast(published_source.value as double) as published_value,
        cast(length(split_part(published_source.value, '.', 2)) as integer) as decimals,
        published_source.unit,
        catalogue.ytd_method,
        catalogue.target_rule

    from published_source
    left join catalogue
        on {{ same_series('published_source', 'catalogue') }}

)

select * from published
