-- Is the change real?  For every area, series and quarter of fct_measure_quarter,
-- two comparisons (docs/analysis.md):
--   same_quarter_last_year   the quarter against the same quarter last year
--   year_to_date             the year to date against last year's to the same
--                            quarter (series whose year to date is a sum only)
-- Counts: Wheeler's z = 2 (sqrt(current) - sqrt(previous)) for two Poisson counts,
-- significant when |z| >= 3.  Percentages with a numerator and a denominator: the
-- pooled two-proportion z test, significant when |z| >= 1.96 (95 %), with 95 %
-- Wilson intervals of both years.  Statistics rounded to 6 decimal places.  A
-- comparison without both usable figures, or a percentage without counts behind it,
-- is 'not tested'.
with

facts as (

    select * from {{ ref('fct_measure_quarter') }}

),

measures as (

    select * from {{ ref('dim_measure') }}

),

last_year as (

    select
        area_code,
        measure_id,
        series,
        cast(left(fiscal_year, 4) as integer) + 1 as next_year_start,
        quarter,
        numerator,
        denominator

    from facts
    where data_status in ('reported', 'late')

),

quarter_rows as (

    select
        facts.area_code,
        facts.area_name,
        facts.measure_id,
        facts.series,
        facts.fiscal_year,
        facts.quarter,
        'same_quarter_last_year' as comparison,
        facts.unit,
        facts.value as current_value,
        facts.last_year_value as previous_value,
        case when facts.data_status in ('reported', 'late') then facts.numerator end
            as current_numerator,
        case when facts.data_status in ('reported', 'late') then facts.denominator end
            as current_denominator,
        last_year.numerator as previous_numerator,
        last_year.denominator as previous_denominator,
        facts.change,
        facts.pct_change

    from facts
    left join last_year
        on
            facts.area_code = last_year.area_code
            and facts.measure_id = last_year.measure_id
            and facts.series = last_year.series
            and cast(left(facts.fiscal_year, 4) as integer) = last_year.next_year_start
            and facts.quarter = last_year.quarter

),

ytd_rows as (

    select
        facts.area_code,
        facts.area_name,
        facts.measure_id,
        facts.series,
        facts.fiscal_year,
        facts.quarter,
        'year_to_date' as comparison,
        facts.unit,
        facts.ytd_value as current_value,
        facts.ytd_last_year_value as previous_value,
        cast(null as double) as current_numerator,
        cast(null as double) as current_denominator,
        cast(null as double) as previous_numerator,
        cast(null as double) as previous_denominator,
        facts.ytd_change as change,
        facts.ytd_pct_change as pct_change

    from facts
    inner join measures
        on
            facts.area_code = measures.area_code
            and facts.measure_id = measures.measure_id
            and facts.series = measures.series
    where measures.ytd_method = 'sum'

),

tested as (

    select
        *,
        case
            when current_value is null or previous_value is null then null
            when unit = 'count' then 'wheeler_z'
            when
                current_denominator > 0 and previous_denominator > 0
                then 'two_proportion_z'
        end as test_method

    from (
        select * from quarter_rows
        union all
        select * from ytd_rows
    ) as comparisons

),

scored as (

    select
        *,
        case
            when test_method = 'wheeler_z'
                then {{ wheeler_z('current_value', 'previous_value') }}
            when test_method = 'two_proportion_z'
                then {{ two_proportion_z('current_numerator', 'current_denominator',
                    'previous_numerator', 'previous_denominator') }}
        end as z_statistic,
        case
            when test_method = 'wheeler_z' then {{ wheeler_threshold() }}
            when test_method = 'two_proportion_z' then {{ z_95() }}
        end as z_threshold

    from tested

),

final as (

    select
        {{ measure_key('area_code', 'measure_id', 'series') }}
            as measure_key,
        {{ quarter_key_of('fiscal_year', 'quarter') }} as quarter_key,
        area_code as area_key,
        area_code,
        area_name,
        measure_id,
        series,
        fiscal_year,
        quarter,
        comparison,
        unit,
        current_value,
        previous_value,
        change,
        pct_change,
        current_numerator,
        current_denominator,
        previous_numerator,
        previous_denominator,
        test_method,
        round(z_statistic, 6) as z_statistic,
        z_threshold,
        case
            when test_method = 'two_proportion_z' then
                round(
                    {{ wilson_bound('current_numerator', 'current_denominator', z_95(), '-') }}, 6
                )
        end as current_lower_95,
        case
            when test_method = 'two_proportion_z' then
                round(
                    {{ wilson_bound('current_numerator', 'current_denominator', z_95(), '+') }}, 6
                )
        end as current_upper_95,
        case
            when test_method = 'two_proportion_z' then
                round(
                    {{ wilson_bound('previous_numerator', 'previous_denominator', z_95(), '-') }}, 6
                )
        end as previous_lower_95,
        case
            when test_method = 'two_proportion_z' then
                round(
                    {{ wilson_bound('previous_numerator', 'previous_denominator', z_95(), '+') }}, 6
                )
        end as previous_upper_95,
        case
            when test_method is null or z_statistic is null then 'not tested'
            when z_statistic >= z_threshold then 'significant increase'
            when z_statistic <= -z_threshold then 'significant decrease'
            else 'no significant change'
        end as significance

    from scored

)

select * from final
