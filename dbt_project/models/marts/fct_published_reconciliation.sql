-- Published figures that disagree with their own arithmetic or with the value the
-- warehouse recomputes from the records.  Figures that agree produce no row, and
-- so does a figure that cannot be checked (nothing to compare it with).
--
-- internal_arithmetic: each published figure against the other published figures
-- of the report (the first derivation available, in this order):
--   change           value - last year
--   pct_change       change / last year x 100 from the counts (change if no value)
--   ytd_value        sum of the published quarters; else the previous quarter's
--                    year to date + the quarter
--   ytd_last_year    the same with the last-year figures
--   ytd_change       year to date - year to date last year
--   ytd_pct_change   ytd change / ytd last year x 100
--   FY value         sum of the four quarters; else Q3 year to date + Q4; else the
--                    next year's last-year figure (Q4 for rolling figures)
--   FY last year     sum of the quarters' last-year figures; else the previous
--                    year's published outturn
--   FY change, %     from the year's value and last-year value
--   baseline         the previous year's outturn (rules that compare with last year)
--   target_status    the year's value against the baseline, by the target rule
--   context counts   IDVA engagement categories quoted beside the engaged numerator
--                    cannot add up to more than the referrals
-- recomputed: each figure against fct_measure_quarter / fct_target_status (the
-- year's figures against Q4's year to date); return statuses against the data
-- status; IDVA context counts against the records.  Percentages are compared at
-- the precision the report prints them.  The published report is the home area's:
-- only its figures are compared.
--
-- The published figures and the internal-arithmetic expectations are intermediate
-- models (int_published_figures*, int_reconciliation__*); this mart adds the
-- recomputed ones and keeps the disagreements.  Keys for BI: measure_key (null for a
-- context count, which is no series of dim_measure), quarter_key (null for FY).
with

published as (

    select * from {{ ref('int_published_figures') }}

),

partnership_area as (

    select * from {{ ref('int_partnership_area') }}
    where is_home_area

),

measures as (

    select * from {{ ref('dim_measure') }}

),

-- internal arithmetic: candidate derivations, the first available one wins ------

recomputed as (

    select * from {{ ref('int_reconciliation__recomputed') }}

),

internal_candidates as (

    select * from {{ ref('int_reconciliation__quarter_arithmetic') }}
    union all
    select * from {{ ref('int_reconciliation__year_arithmetic') }}

),

internal_expected as (

    select *
    from internal_candidates
    where expected_value is not null
    qualify row_number() over (
        partition by measure_id, series, fiscal_year, period, figure
        order by priority
    ) = 1

),

internal_status_expected as (

    select * from {{ ref('int_reconciliation__target_status_arithmetic') }}

),

engagement_expected as (

    select * from {{ ref('int_reconciliation__engagement_arithmetic') }}

),

-- compare ------------------------------------------------------------------------

-- every expected figure, whichever check produced it, in one shape
expected as (

    select
        measure_id,
        series,
        fiscal_year,
        period,
        figure,
        'internal_arithmetic' as check_kind,
        expected_value,
        cast(null as varchar) as expected_text,
        how
    from internal_expected

    union all

    select
        measure_id,
        series,
        fiscal_year,
        period,
        figure,
        'internal_arithmetic' as check_kind,
        cast(null as double) as expected_value,
        expected_text,
        how
    from internal_status_expected

    union all

    select
        measure_id,
        series,
        fiscal_year,
        period,
        figure,
        'internal_arithmetic' as check_kind,
        expected_value,
        cast(null as varchar) as expected_text,
        how
    from engagement_expected

    union all

    select
        measure_id,
        series,
        fiscal_year,
        period,
        figure,
        check_kind,
        expected_value,
        expected_text,
        how
    from recomputed

),

checks as (

    select
        published.*,
        expected.check_kind,
        expected.expected_value,
        expected.expected_text,
        expected.how

    from published
    inner join expected
        on
            published.measure_id = expected.measure_id
            and published.series = expected.series
            and published.fiscal_year = expected.fiscal_year
            and published.period = expected.period
            and published.figure = expected.figure

),

compared as (

    select
        *,
        -- a percentage is compared at the precision the report prints it
        case
            when figure in ('pct_change', 'ytd_pct_change') or unit = 'percent'
                then round(expected_value, decimals)
            else expected_value
        end as comparable_value

    from checks

),

disagreements as (

    select
        *,
        coalesce(
            expected_text,
            {{ format_figure('comparable_value', 'decimals') }}
        ) as expected_display

    from compared
    where
        case
            when expected_text is not null then expected_text <> published_text
            else abs(comparable_value - published_value) > 1e-9
        end

),

final as (

    select
        measures.measure_key,
        case
            when disagreements.period in ('Q1', 'Q2', 'Q3', 'Q4')
                then {{ quarter_key_of(
                    'disagreements.fiscal_year', 'cast(right(disagreements.period, 1) as integer)'
                ) }}
        end as quarter_key,
        partnership_area.area_code as area_key,
        partnership_area.area_code,
        partnership_area.area_name,
        disagreements.measure_id,
        disagreements.series,
        disagreements.fiscal_year,
        disagreements.period,
        disagreements.figure,
        disagreements.published_text,
        disagreements.published_value,
        disagreements.expected_display as expected_text,
        disagreements.comparable_value as expected_value,
        disagreements.published_value - disagreements.comparable_value as difference,
        disagreements.check_kind,
        disagreements.measure_id || ' ' || disagreements.series || ' '
        || disagreements.fiscal_year || ' ' || disagreements.period || ' '
        || disagreements.figure || ' is published as '
        || disagreements.published_text || ' but ' || disagreements.how || ' '
        || disagreements.expected_display as explanation

    from disagreements
    cross join partnership_area
    left join measures
        on
            partnership_area.area_code = measures.area_code
            and disagreements.measure_id = measures.measure_id
            and disagreements.series = measures.series

)

select * from final
