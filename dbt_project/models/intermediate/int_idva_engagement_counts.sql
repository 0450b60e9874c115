-- IDVA referrals per fiscal quarter and engagement category: what the report's
-- context counts of 6.4 (referrals by engagement) are recomputed from.
with

referrals as (

    select
        engagement,
        fiscal_year,
        'Q' || quarter as period

    from {{ ref('stg_idva__referrals') }}

),

final as (

    select
        engagement,
        fiscal_year,
        period,
        count(*) as referrals

    from referrals
    group by engagement, fiscal_year, period

)

select * from final
