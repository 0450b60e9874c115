-- Fiscal quarters (dim_quarter) for each area the marts report on: what the report
-- and the chase letters read.  BI joins facts to dim_quarter on quarter_key.
with

fiscal_quarters as (

    select * from {{ ref('dim_quarter') }}

),

partnership_area as (

    select * from {{ ref('int_partnership_area') }}

),

final as (

    select
        fiscal_quarters.quarter_key,
        partnership_area.area_code as area_key,
        partnership_area.area_code,
        partnership_area.area_name,
        fiscal_quarters.fiscal_year,
        fiscal_quarters.quarter,
        fiscal_quarters.fiscal_year_start,
        fiscal_quarters.quarter_label,
        fiscal_quarters.quarter_months,
        fiscal_quarters.quarter_start,
        fiscal_quarters.quarter_start as period_start,
        fiscal_quarters.quarter_end as period_end,
        fiscal_quarters.default_due_date,
        fiscal_quarters.is_ended

    from fiscal_quarters
    cross join partnership_area

)

select * from final
