-- One row per calendar month of the fiscal calendar, with its fiscal quarter.
with

fiscal_quarters as (

    select * from {{ ref('fiscal_calendar') }}

),

months as (

    select
        fiscal_year,
        fiscal_year_start,
        quarter,
        cast(
            unnest(generate_series(period_start, period_end, interval 1 month)) as date
        ) as month_start

    from fiscal_quarters

)

select * from months
