{#- A summed count's year to date (`dimension`.ytd_method = 'sum', unit count) is the
    sum of the year's quarters 1..q while every one of them is usable (the data_status
    seed's is_usable) and has a value; empty after a gap.  Computed here independently of
    the model (docs/marts.md, "Year to date"); a row is returned where they differ. -#}
{% test ytd_sums_usable_quarters(model, dimension) %}

    with

    facts as (

        select
            fact.area_code,
            fact.measure_id,
            fact.series,
            fact.fiscal_year,
            fact.quarter,
            fact.value,
            fact.ytd_value,
            coalesce(status.is_usable, false) as is_usable

        from {{ model }} as fact
        inner join {{ dimension }} as measure
            on
                fact.area_code = measure.area_code
                and fact.measure_id = measure.measure_id
                and fact.series = measure.series
        left join {{ ref('data_status') }} as status
            on fact.data_status = status.code
        where measure.ytd_method = 'sum' and fact.unit = 'count'

    ),

    so_far as (

        select
            *,
            bool_and(is_usable) over year_so_far as all_usable,
            count(*) over year_so_far as quarters_so_far,
            count(value) over year_so_far as values_so_far,
            sum(value) over year_so_far as value_so_far

        from facts
        window year_so_far as (
            partition by area_code, measure_id, series, fiscal_year
            order by quarter
            rows between unbounded preceding and current row
        )

    ),

    expected as (

        select
            *,
            case
                when all_usable and quarters_so_far = quarter and values_so_far = quarter
                    then value_so_far
            end as expected_ytd_value

        from so_far

    )

    select *
    from expected
    where not (
        (ytd_value is null and expected_ytd_value is null)
        or coalesce(abs(ytd_value - expected_ytd_value) < 1e-9, false)
    )

{% endtest %}
