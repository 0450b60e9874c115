-- For each area's series and quarter: which quarters of its fiscal year so far were
-- due and gave a usable figure (seed data_status), and what the usable ones add up to
-- (their sum, their rate, the latest of them).  fct_target_status gives a verdict
-- from these when the year to date is incomplete, marked provisional.
with

quarters as (

    select * from {{ ref('int_measure_quarter') }}

),

statuses as (

    select * from {{ ref('data_status') }}

),

quarter_flags as (

    select
        quarters.area_code,
        quarters.measure_id,
        quarters.series,
        quarters.fiscal_year,
        quarters.quarter,
        quarters.value,
        quarters.numerator,
        quarters.denominator,
        coalesce(statuses.is_usable, false) as is_usable,
        coalesce(statuses.is_usable or statuses.is_return_gap, false) as is_due

    from quarters
    left join statuses
        on quarters.data_status = statuses.code

),

received as (

    select
        this.area_code,
        this.measure_id,
        this.series,
        this.fiscal_year,
        this.quarter,
        count(*) filter (where earlier.is_due) as quarters_due,
        count(*) filter (where earlier.is_usable) as quarters_received,
        string_agg('Q' || earlier.quarter, ', ' order by earlier.quarter) filter (
            where earlier.is_due and not earlier.is_usable
        ) as quarters_missing,
        sum(earlier.value) filter (where earlier.is_usable) as received_sum,
        {{ safe_pct(
            'sum(earlier.numerator) filter (where earlier.is_usable)',
            'sum(earlier.denominator) filter (where earlier.is_usable)') }} as received_rate,
        arg_max(earlier.value, earlier.quarter) filter (where earlier.is_usable)
            as received_latest

    from quarter_flags as this
    inner join quarter_flags as earlier
        on
            this.area_code = earlier.area_code
            and this.measure_id = earlier.measure_id
            and this.series = earlier.series
            and this.fiscal_year = earlier.fiscal_year
            and this.quarter >= earlier.quarter
    group by all

)

select * from received
