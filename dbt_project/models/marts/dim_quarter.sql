-- Fiscal quarters (fiscal_calendar seed), one row each: the star schema's quarter
-- dimension, with a sortable label and key.
with

fiscal_quarters as (

    select * from {{ ref('fiscal_calendar') }}

),

final as (

    select
        {{ quarter_key('fiscal_year_start', 'quarter') }} as quarter_key,
        fiscal_year,
        quarter,
        fiscal_year_start,
        fiscal_year || ' Q' || quarter as quarter_label,
        months as quarter_months,
        period_start as quarter_start,
        period_end as quarter_end,
        period_end + {{ var('default_due_days') }} as default_due_date,
        period_end <= {{ as_of_date() }} as is_ended

    from fiscal_quarters

)

select * from final
