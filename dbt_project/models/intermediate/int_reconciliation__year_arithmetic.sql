-- Internal arithmetic of the published years: what each year figure (value, last
-- year, change, % change, the baseline of a rule that compares with last year) should
-- be from the report's quarters and other years.  Candidates by priority; the mart
-- keeps, per figure, the first available one.
with

years_based as (

    select * from {{ ref('int_published_figures__years') }}

),

previous_outturns as (

    select
        measure_id,
        series,
        fiscal_year_start + 1 as fiscal_year_start,
        value_base as previous_outturn

    from years_based

),

candidates as (

    select
        years_based.measure_id,
        years_based.series,
        years_based.fiscal_year,
        'FY' as period,
        derivations.figure,
        derivations.priority,
        case derivations.derivation
            when 'quarters_outturn' then years_based.quarters_outturn
            when 'next_year_outturn' then years_based.next_year_outturn
            when 'quarters_last_year' then years_based.quarters_last_year
            when 'previous_year_value' then years_based.previous_year_value
            when 'change' then years_based.value_base - years_based.last_year_base
            when 'pct_change'
                then
                    100.0 * (years_based.value_base - years_based.last_year_base)
                    / nullif(years_based.last_year_base, 0)
            when 'previous_outturn'
                then
                    case
                        when years_based.target_rule in ('below_previous_year', 'above_baseline')
                            then previous_outturns.previous_outturn
                    end
        end as expected_value,
        case derivations.derivation
            when 'quarters_outturn' then years_based.quarters_outturn_how
            when 'next_year_outturn' then 'the next year''s report gives last year as'
            when 'quarters_last_year'
                then
                    case
                        when years_based.ytd_method = 'latest' then 'the Q4 last-year figure is'
                        else 'the quarters'' last-year figures add up to'
                    end
            when 'previous_year_value' then 'the previous year''s published outturn is'
            when 'change' then 'the year less last year gives'
            when 'pct_change' then 'the year and last year give'
            when 'previous_outturn'
                then
                    'the previous year''s outturn (the baseline of a rule that compares with'
                    || ' last year) is'
        end as how

    from years_based
    cross join (
        values
        ('value', 1, 'quarters_outturn'),
        ('value', 2, 'next_year_outturn'),
        ('last_year_value', 1, 'quarters_last_year'),
        ('last_year_value', 2, 'previous_year_value'),
        ('change', 1, 'change'),
        ('pct_change', 1, 'pct_change'),
        ('baseline', 1, 'previous_outturn')
    ) as derivations (figure, priority, derivation)
    left join previous_outturns
        on
            years_based.measure_id = previous_outturns.measure_id
            and years_based.series = previous_outturns.series
            and years_based.fiscal_year_start = previous_outturns.fiscal_year_start

)

select * from candidates
