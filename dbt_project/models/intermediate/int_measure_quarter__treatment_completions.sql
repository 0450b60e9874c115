-- Successful completions from treatment (3.3): the agency supplies numbers over
-- the rolling 12 months to each quarter end; the rate is computed here from the
-- figures for the quarter whose end is the file's period_end.  The latest
-- quarter's rate stands for the year to date.
with

completions as (

    select * from {{ ref('stg_ndtms__treatment_completions') }}

),

final as (

    select
        '3.3' as measure_id,
        series,
        fiscal_year,
        quarter,
        {{ safe_pct('successful_completions', 'in_treatment') }} as value,
        cast(successful_completions as double) as numerator,
        cast(in_treatment as double) as denominator,
        3 as months_expected,
        3 as months_received,
        first_delivered_at as received_at,
        'ndtms_treatment_completions' as source,
        false as is_approximation

    from completions
    -- a figure for a date that is not a quarter end cannot stand for a quarter
    where period_end = last_day(period_end) and month(period_end) % 3 = 0

)

select * from final
