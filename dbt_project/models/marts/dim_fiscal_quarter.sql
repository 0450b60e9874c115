-- Fiscal quarters (April to March years) of the fiscal_calendar seed, for each area
-- the marts report on (read by the report and the chase letters).  The quarter's key,
-- label and dates are computed here once; dim_quarter (BI) is its one row per quarter.
with

fiscal_quarters as (

    select * from {{ ref('fiscal_calendar') }}

),

partnership_area as (

    select * from {{ ref('int_partnership_area') }}

),

final as (

    select
        {{ quarter_key('fiscal_quarters.fiscal_year_start', 'fiscal_quarters.quarter') }}
            as quarter_key,
        partnership_area.area_code as area_key,
        partnership_area.area_code,
        partnership_area.area_name,
        fiscal_quarters.fiscal_year,
        fiscal_quarters.quarter,
        fiscal_quarters.fiscal_year_start,
        fiscal_quarters.fiscal_year || ' ' || fiscal_quarters.quarter_label
            as quarter_label,
        fiscal_quarters.months as quarter_months,
        fiscal_quarters.period_start as quarter_start,
        fiscal_quarters.period_start,
        fiscal_quarters.period_end,
        fiscal_quarters.period_end
        + {{ var('default_due_days') }} as default_due_date,
        fiscal_quarters.period_end <= {{ as_of_date() }} as is_ended

    from fiscal_quarters
    cross join partnership_area

)

select * from final
