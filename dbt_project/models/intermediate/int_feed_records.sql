-- The home area's record feeds, counted per fiscal quarter: one row per feed,
-- fiscal year and quarter with the number of current records dated in it.  What a
-- count measure of the record_count_sources seed (feed_name) counts.
with

unioned as (

    select
        'maasbt_service_requests' as feed_name,
        fiscal_year,
        quarter

    from {{ ref('stg_maasbt__service_requests') }}

    union all

    select
        'idva_referrals' as feed_name,
        fiscal_year,
        quarter

    from {{ ref('stg_idva__referrals') }}

    union all

    select
        'marac_cases' as feed_name,
        fiscal_year,
        quarter

    from {{ ref('stg_marac__cases') }}

    union all

    select
        'asb_satisfaction_survey' as feed_name,
        fiscal_year,
        quarter

    from {{ ref('stg_asb_survey__responses') }}

),

final as (

    select
        feed_name,
        fiscal_year,
        quarter,
        count(*) as record_count

    from unioned
    group by feed_name, fiscal_year, quarter

)

select * from final
