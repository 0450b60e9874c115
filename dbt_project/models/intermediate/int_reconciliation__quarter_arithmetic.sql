-- Internal arithmetic of the published quarters: what each quarter figure (change,
-- % change, year to date, year to date last year and their change) should be from the
-- report's other figures, one candidate per figure (the year-to-date ones for summed
-- series only).  The mart keeps, per figure, the first available candidate.
with

quarters_based as (

    select * from {{ ref('int_published_figures__quarters') }}

),

candidates as (

    select
        quarters_based.measure_id,
        quarters_based.series,
        quarters_based.fiscal_year,
        'Q' || quarters_based.quarter as period,
        derivations.figure,
        1 as priority,
        case derivations.figure
            when 'change' then quarters_based.value - quarters_based.last_year_value
            when 'pct_change'
                then
                    100.0 * coalesce(
                        quarters_based.value - quarters_based.last_year_value,
                        quarters_based.change
                    )
                    / nullif(
                        coalesce(
                            quarters_based.last_year_value,
                            quarters_based.value - quarters_based.change
                        ),
                        0
                    )
            when 'ytd_value' then quarters_based.derived_ytd_value
            when 'ytd_last_year' then quarters_based.derived_ytd_last_year
            when 'ytd_change'
                then
                    quarters_based.ytd_value_base
                    - coalesce(quarters_based.ytd_last_year, quarters_based.derived_ytd_last_year)
            when 'ytd_pct_change'
                then
                    100.0 * coalesce(
                        quarters_based.ytd_value_base - quarters_based.ytd_last_year_base,
                        quarters_based.ytd_change
                    )
                    / nullif(quarters_based.ytd_last_year_base, 0)
        end as expected_value,
        case derivations.figure
            when 'change' then 'the quarter less last year gives'
            when 'pct_change'
                then
                    case
                        when
                            quarters_based.value is not null
                            and quarters_based.last_year_value is not null
                            then 'the quarter and last year give'
                        else 'the change over last year gives'
                    end
            when 'ytd_value' then quarters_based.derived_ytd_value_how
            when 'ytd_last_year' then quarters_based.derived_ytd_last_year_how
            when 'ytd_change' then 'the year to date less the year to date last year gives'
            when 'ytd_pct_change' then 'the year to date and the year to date last year give'
        end as how

    from quarters_based
    cross join (
        values
        ('change', false), ('pct_change', false), ('ytd_value', true), ('ytd_last_year', true),
        ('ytd_change', true), ('ytd_pct_change', true)
    ) as derivations (figure, is_year_to_date)
    where not derivations.is_year_to_date or quarters_based.ytd_method = 'sum'

)

select * from candidates
