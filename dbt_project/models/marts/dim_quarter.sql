-- Fiscal quarters, one row each: the star schema's quarter dimension (the
-- quarter columns of dim_fiscal_quarter, which computes them, without the area).
with

area_quarters as (

    select * from {{ ref('dim_fiscal_quarter') }}

),

final as (

    select distinct
        quarter_key,
        fiscal_year,
        quarter,
        fiscal_year_start,
        quarter_label,
        quarter_months,
        quarter_start,
        period_end as quarter_end,
        default_due_date,
        is_ended

    from area_quarters

)

select * from final
