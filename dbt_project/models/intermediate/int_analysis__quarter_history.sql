-- The history the year-end forecast learns from: one row per area, series, fiscal
-- year and quarter of fct_measure_quarter with the year's outturn (the year to date
-- at Q4), the ratio of outturn to the year to date at the quarter (Q1-Q3, both
-- usable), and the quarter's over-dispersion term: Wheeler's z^2 / 2 against the
-- same quarter last year (1 on average under pure Poisson variation).
with

facts as (

    select * from {{ ref('fct_measure_quarter') }}

),

with_outturn as (

    select
        facts.area_code,
        facts.measure_id,
        facts.series,
        facts.fiscal_year,
        cast(left(facts.fiscal_year, 4) as integer) as year_start,
        facts.quarter,
        facts.ytd_value,
        outturn.ytd_value as outturn,
        case
            when facts.value >= 0 and facts.last_year_value >= 0
                then pow({{ wheeler_z('facts.value', 'facts.last_year_value') }}, 2) / 2
        end as z2_half

    from facts
    left join facts as outturn
        on
            facts.area_code = outturn.area_code
            and facts.measure_id = outturn.measure_id
            and facts.series = outturn.series
            and facts.fiscal_year = outturn.fiscal_year
            and outturn.quarter = 4

),

final as (

    select
        *,
        case
            when quarter <= 3 and ytd_value > 0 then outturn / ytd_value
        end as ratio_to_outturn

    from with_outturn

)

select * from final
