-- The quarterly fact: one row per area, measure series and fiscal quarter with the
-- quarter's value, the same quarter last year, change, year to date and the data
-- status.  Year to date by the series' ytd_method:
--   sum     sum of the year's quarters so far (counts)
--   ratio   sum of numerators over sum of denominators (rates over own records)
--   latest  the quarter's own value (agency-supplied rolling 12-month rates and
--           the rolling repeat-victim count): Q4 is the year's outturn
-- Comparisons use only usable figures (reported or late): a partial, missing or
-- declared quarter leaves change and year to date empty rather than wrong.
-- Percent series: change in percentage points, no % change.
with

measure_quarters as (

    select * from {{ ref('int_measure_quarter') }}

),

year_to_date as (

    select
        *,
        bool_and(is_usable) over year_so_far as is_year_so_far_usable,
        sum(value) over year_so_far as value_so_far,
        sum(numerator) over year_so_far as numerator_so_far,
        sum(denominator) over year_so_far as denominator_so_far

    from measure_quarters
    window year_so_far as (
        partition by area_code, measure_id, series, fiscal_year
        order by quarter
        rows between unbounded preceding and current row
    )

),

with_ytd_value as (

    select
        *,
        case
            when ytd_method = 'latest' and is_usable then value
            when ytd_method = 'sum' and is_year_so_far_usable then value_so_far
            when ytd_method = 'ratio' and is_year_so_far_usable
                then {{ safe_pct('numerator_so_far', 'denominator_so_far') }}
        end as ytd_value

    from year_to_date

),

compared as (

    select
        this_year.*,
        case when last_year.is_usable then last_year.value end as last_year_value,
        case
            when this_year.is_usable and last_year.is_usable
                then this_year.value - last_year.value
        end as change,
        last_year.ytd_value as ytd_last_year_value,
        this_year.ytd_value - last_year.ytd_value as ytd_change

    from with_ytd_value as this_year
    left join with_ytd_value as last_year
        on
            this_year.area_code = last_year.area_code
            and this_year.measure_id = last_year.measure_id
            and this_year.series = last_year.series
            and this_year.fiscal_year_start = last_year.fiscal_year_start + 1
            and this_year.quarter = last_year.quarter

),

final as (

    select
        {{ measure_key('compared.area_code', 'compared.measure_id', 'compared.series') }}
            as measure_key,
        {{ quarter_key('compared.fiscal_year_start', 'compared.quarter') }} as quarter_key,
        compared.area_code as area_key,
        compared.area_code,
        compared.area_name,
        compared.measure_id,
        compared.series,
        compared.fiscal_year,
        compared.quarter,
        compared.period_start,
        compared.period_end,
        compared.unit,
        compared.value,
        compared.numerator,
        compared.denominator,
        compared.last_year_value,
        compared.change,
        case
            when compared.unit = 'count'
                then {{ safe_pct('compared.change', 'compared.last_year_value') }}
        end as pct_change,
        compared.ytd_value,
        compared.ytd_last_year_value,
        compared.ytd_change,
        case
            when compared.unit = 'count'
                then {{ safe_pct('compared.ytd_change', 'compared.ytd_last_year_value') }}
        end as ytd_pct_change,
        compared.data_status,
        compared.is_approximation,
        compared.source,
        compared.due_date,
        compared.received_date,
        compared.months_expected,
        compared.months_received,
        compared.status_note

    from compared

)

select * from final
