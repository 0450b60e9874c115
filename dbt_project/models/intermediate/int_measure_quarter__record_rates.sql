-- Rates over the quarter's own records, numerator over denominator (x 100):
-- satisfaction (1.2), MARAC engagement (6.2) and IDVA outcomes (6.4).  The year
-- to date of these is the sum of numerators over the sum of denominators.  Which
-- series are rates and which feed each reads come from the catalogue (method
-- record_rate); what counts as the numerator of each is the SQL below.
with

feed_months as (

    select * from {{ ref('int_feed_month_coverage') }}
    where is_covered

),

survey_responses as (

    select * from {{ ref('stg_asb_survey__responses') }}

),

marac_cases as (

    select * from {{ ref('stg_marac__cases') }}

),

idva_referrals as (

    select * from {{ ref('stg_idva__referrals') }}

),

series_feeds as (

    -- which feed each rate series is computed from: the catalogue (seeds measures and
    -- measure_computation), never typed here
    select
        measure_id,
        series,
        source as feed_name

    from {{ ref('int_measure_catalogue') }}
    where method = 'record_rate'

),

quarter_coverage as (

    select
        series_feeds.measure_id,
        series_feeds.series,
        feed_months.fiscal_year,
        feed_months.quarter,
        count(*) as months_received,
        max(feed_months.first_delivered_at) as received_at,
        series_feeds.feed_name as source

    from series_feeds
    inner join feed_months
        on series_feeds.feed_name = feed_months.feed_name
    group by
        series_feeds.measure_id,
        series_feeds.series,
        series_feeds.feed_name,
        feed_months.fiscal_year,
        feed_months.quarter

),

quarter_rates as (

    select
        '1.2' as measure_id,
        'total' as series,
        fiscal_year,
        quarter,
        count(*) filter (where is_satisfied) as numerator,
        count(*) as denominator

    from survey_responses
    group by fiscal_year, quarter

    union all

    select
        '6.2' as measure_id,
        'victims_engaging' as series,
        fiscal_year,
        quarter,
        count(*) filter (where engaged_with_service = 'Y') as numerator,
        count(*) as denominator

    from marac_cases
    group by fiscal_year, quarter

    union all

    select
        '6.2' as measure_id,
        'repeat_victims_engaging' as series,
        fiscal_year,
        quarter,
        count(*) filter (where engaged_with_service = 'Y') as numerator,
        count(*) as denominator

    from marac_cases
    where is_repeat_case
    group by fiscal_year, quarter

    union all

    select
        '6.4' as measure_id,
        'worked_with_after_assessment_pct' as series,
        fiscal_year,
        quarter,
        count(*) filter (where assessment_outcome = 'worked_with') as numerator,
        count(*) as denominator

    from idva_referrals
    group by fiscal_year, quarter

    union all

    select
        '6.4' as measure_id,
        'engaged_pct' as series,
        fiscal_year,
        quarter,
        count(*) filter (where engagement = 'engaged') as numerator,
        count(*) as denominator

    from idva_referrals
    group by fiscal_year, quarter

),

final as (

    select
        quarter_coverage.measure_id,
        quarter_coverage.series,
        quarter_coverage.fiscal_year,
        quarter_coverage.quarter,
        {{ safe_pct('quarter_rates.numerator', 'quarter_rates.denominator') }} as value,
        cast(coalesce(quarter_rates.numerator, 0) as double) as numerator,
        cast(coalesce(quarter_rates.denominator, 0) as double) as denominator,
        3 as months_expected,
        quarter_coverage.months_received,
        quarter_coverage.received_at,
        quarter_coverage.source,
        false as is_approximation

    from quarter_coverage
    left join quarter_rates
        on {{ same_series_quarter('quarter_coverage', 'quarter_rates', with_area=false) }}

)

select * from final
