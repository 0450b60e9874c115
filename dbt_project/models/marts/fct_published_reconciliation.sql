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
with

published_source as (

    select * from {{ ref('published_figures') }}

),

catalogue as (

    select * from {{ ref('int_measure_catalogue') }}

),

targets as (

    select * from {{ ref('measure_targets') }}

),

partnership_area as (

    select * from {{ ref('int_partnership_area') }}
    where is_home_area

),

facts as (

    select * from {{ ref('fct_measure_quarter') }}
    where area_code in (select partnership_area.area_code from partnership_area)

),

target_status as (

    select * from {{ ref('fct_target_status') }}
    where area_code in (select partnership_area.area_code from partnership_area)

),

idva_referrals as (

    select
        *,
        {{ fiscal_year_of('referred_on') }} as fiscal_year,
        'Q' || {{ fiscal_quarter_of('referred_on') }} as period

    from {{ ref('stg_idva__referrals') }}

),

published as (

    select
        published_source.measure_id,
        published_source.series,
        published_source.fiscal_year,
        cast(left(published_source.fiscal_year, 4) as integer) as fiscal_year_start,
        published_source.period,
        published_source.figure,
        published_source.value as published_text,
        try_cast(published_source.value as double) as published_value,
        cast(length(split_part(published_source.value, '.', 2)) as integer) as decimals,
        published_source.unit,
        catalogue.ytd_method,
        catalogue.target_rule

    from published_source
    left join catalogue
        on
            published_source.measure_id = catalogue.measure_id
            and published_source.series = catalogue.series

),

-- the published figures side by side, per series and period ---------------------

wide as (

    select
        measure_id,
        series,
        fiscal_year,
        fiscal_year_start,
        period,
        any_value(ytd_method) as ytd_method,
        any_value(target_rule) as target_rule,
        max(published_value) filter (where figure = 'value') as value,
        max(published_value) filter (where figure = 'last_year_value') as last_year_value,
        max(published_value) filter (where figure = 'change') as change,
        max(published_value) filter (where figure = 'ytd_value') as ytd_value,
        max(published_value) filter (where figure = 'ytd_last_year') as ytd_last_year,
        max(published_value) filter (where figure = 'ytd_change') as ytd_change,
        max(published_value) filter (where figure = 'baseline') as baseline

    from published
    where ytd_method is not null
    group by measure_id, series, fiscal_year, fiscal_year_start, period

),

series_years as (

    select distinct
        measure_id,
        series,
        fiscal_year,
        fiscal_year_start,
        ytd_method,
        target_rule

    from wide

),

quarter_grid as (

    select
        series_years.*,
        quarters.quarter

    from series_years
    cross join (values (1), (2), (3), (4)) as quarters (quarter)

),

quarters as (

    select
        quarter_grid.*,
        wide.value,
        wide.last_year_value,
        wide.change,
        wide.ytd_value,
        wide.ytd_last_year,
        wide.ytd_change,
        count(wide.value) over year_so_far as values_so_far,
        sum(wide.value) over year_so_far as sum_values,
        count(wide.last_year_value) over year_so_far as last_years_so_far,
        sum(wide.last_year_value) over year_so_far as sum_last_years,
        lag(wide.ytd_value) over year_by_quarter as previous_ytd_value,
        lag(wide.ytd_last_year) over year_by_quarter as previous_ytd_last_year

    from quarter_grid
    left join wide
        on
            quarter_grid.measure_id = wide.measure_id
            and quarter_grid.series = wide.series
            and quarter_grid.fiscal_year = wide.fiscal_year
            and wide.period = 'Q' || quarter_grid.quarter
    window
        year_by_quarter as (
            partition by quarter_grid.measure_id, quarter_grid.series, quarter_grid.fiscal_year
            order by quarter_grid.quarter
        ),
        year_so_far as (
            partition by quarter_grid.measure_id, quarter_grid.series, quarter_grid.fiscal_year
            order by quarter_grid.quarter
            rows between unbounded preceding and current row
        )

),

quarters_derived as (

    select
        *,
        case
            when values_so_far = quarter then sum_values
            when quarter = 1 then value
            else previous_ytd_value + value
        end as derived_ytd_value,
        case
            when values_so_far = quarter
                then 'the published quarters add up to'
            else 'the previous quarter''s year to date plus the quarter gives'
        end as derived_ytd_value_how,
        case
            when last_years_so_far = quarter then sum_last_years
            when quarter = 1 then last_year_value
            else previous_ytd_last_year + last_year_value
        end as derived_ytd_last_year,
        case
            when last_years_so_far = quarter
                then 'the published last-year quarters add up to'
            else 'the previous quarter''s year to date last year plus the quarter gives'
        end as derived_ytd_last_year_how

    from quarters

),

quarters_based as (

    select
        *,
        coalesce(ytd_value, derived_ytd_value) as ytd_value_base,
        coalesce(
            ytd_last_year,
            derived_ytd_last_year,
            coalesce(ytd_value, derived_ytd_value) - ytd_change
        ) as ytd_last_year_base

    from quarters_derived

),

years as (

    select
        series_years.*,
        this_year.value,
        this_year.last_year_value,
        this_year.baseline,
        q4.value as q4_value,
        q4.last_year_value as q4_last_year_value,
        q4.values_so_far as q4_values_published,
        q4.sum_values as q4_sum_values,
        q4.ytd_last_year_base as q4_ytd_last_year_base,
        q3.ytd_value_base as q3_ytd_value_base,
        next_year.last_year_value as next_year_last_year_value,
        next_q4.ytd_last_year_base as next_year_q4_ytd_last_year_base,
        next_q4.last_year_value as next_year_q4_last_year_value,
        previous_year.value as previous_year_value

    from series_years
    left join wide as this_year
        on
            series_years.measure_id = this_year.measure_id
            and series_years.series = this_year.series
            and series_years.fiscal_year = this_year.fiscal_year
            and this_year.period = 'FY'
    left join quarters_based as q4
        on
            series_years.measure_id = q4.measure_id
            and series_years.series = q4.series
            and series_years.fiscal_year = q4.fiscal_year
            and q4.quarter = 4
    left join quarters_based as q3
        on
            series_years.measure_id = q3.measure_id
            and series_years.series = q3.series
            and series_years.fiscal_year = q3.fiscal_year
            and q3.quarter = 3
    left join wide as next_year
        on
            series_years.measure_id = next_year.measure_id
            and series_years.series = next_year.series
            and series_years.fiscal_year_start + 1 = next_year.fiscal_year_start
            and next_year.period = 'FY'
    left join quarters_based as next_q4
        on
            series_years.measure_id = next_q4.measure_id
            and series_years.series = next_q4.series
            and series_years.fiscal_year_start + 1 = next_q4.fiscal_year_start
            and next_q4.quarter = 4
    left join wide as previous_year
        on
            series_years.measure_id = previous_year.measure_id
            and series_years.series = previous_year.series
            and series_years.fiscal_year_start - 1 = previous_year.fiscal_year_start
            and previous_year.period = 'FY'

),

years_derived as (

    select
        *,
        case
            when ytd_method = 'latest' then q4_value
            when ytd_method = 'sum' and q4_values_published = 4 then q4_sum_values
            when ytd_method = 'sum' then q3_ytd_value_base + q4_value
        end as quarters_outturn,
        case
            when ytd_method = 'latest' then 'the Q4 figure is'
            when ytd_method = 'sum' and q4_values_published = 4
                then 'the published quarters add up to'
            else 'the Q3 year to date plus Q4 gives'
        end as quarters_outturn_how,
        case
            when ytd_method = 'latest'
                then coalesce(next_year_last_year_value, next_year_q4_last_year_value)
            when ytd_method = 'sum'
                then coalesce(next_year_last_year_value, next_year_q4_ytd_last_year_base)
        end as next_year_outturn,
        case
            when ytd_method = 'latest' then q4_last_year_value
            when ytd_method = 'sum' then q4_ytd_last_year_base
        end as quarters_last_year

    from years

),

years_based as (

    select
        years_derived.*,
        coalesce(
            years_derived.value,
            years_derived.quarters_outturn,
            years_derived.next_year_outturn
        ) as value_base,
        coalesce(
            years_derived.last_year_value,
            years_derived.quarters_last_year,
            years_derived.previous_year_value
        ) as last_year_base,
        coalesce(years_derived.baseline, targets.baseline) as baseline_base

    from years_derived
    left join targets
        on
            years_derived.measure_id = targets.measure_id
            and years_derived.series = targets.series
            and years_derived.fiscal_year = targets.fiscal_year

),

previous_outturns as (

    select
        measure_id,
        series,
        fiscal_year_start + 1 as fiscal_year_start,
        value_base as previous_outturn

    from years_based

),

-- internal arithmetic: candidate derivations, the first available one wins ------

internal_candidates as (

    select
        measure_id,
        series,
        fiscal_year,
        'Q' || quarter as period,
        'change' as figure,
        1 as priority,
        value - last_year_value as expected_value,
        'the quarter less last year gives' as how

    from quarters_based

    union all

    select
        measure_id,
        series,
        fiscal_year,
        'Q' || quarter as period,
        'pct_change' as figure,
        1 as priority,
        100.0 * coalesce(value - last_year_value, change)
        / nullif(coalesce(last_year_value, value - change), 0) as expected_value,
        case
            when value is not null and last_year_value is not null
                then 'the quarter and last year give'
            else 'the change over last year gives'
        end as how

    from quarters_based

    union all

    select
        measure_id,
        series,
        fiscal_year,
        'Q' || quarter as period,
        'ytd_value' as figure,
        1 as priority,
        derived_ytd_value as expected_value,
        derived_ytd_value_how as how

    from quarters_based
    where ytd_method = 'sum'

    union all

    select
        measure_id,
        series,
        fiscal_year,
        'Q' || quarter as period,
        'ytd_last_year' as figure,
        1 as priority,
        derived_ytd_last_year as expected_value,
        derived_ytd_last_year_how as how

    from quarters_based
    where ytd_method = 'sum'

    union all

    select
        measure_id,
        series,
        fiscal_year,
        'Q' || quarter as period,
        'ytd_change' as figure,
        1 as priority,
        ytd_value_base - coalesce(ytd_last_year, derived_ytd_last_year) as expected_value,
        'the year to date less the year to date last year gives' as how

    from quarters_based
    where ytd_method = 'sum'

    union all

    select
        measure_id,
        series,
        fiscal_year,
        'Q' || quarter as period,
        'ytd_pct_change' as figure,
        1 as priority,
        100.0 * coalesce(ytd_value_base - ytd_last_year_base, ytd_change)
        / nullif(ytd_last_year_base, 0) as expected_value,
        'the year to date and the year to date last year give' as how

    from quarters_based
    where ytd_method = 'sum'

    union all

    select
        measure_id,
        series,
        fiscal_year,
        'FY' as period,
        'value' as figure,
        1 as priority,
        quarters_outturn as expected_value,
        quarters_outturn_how as how

    from years_based

    union all

    select
        measure_id,
        series,
        fiscal_year,
        'FY' as period,
        'value' as figure,
        2 as priority,
        next_year_outturn as expected_value,
        'the next year''s report gives last year as' as how

    from years_based

    union all

    select
        measure_id,
        series,
        fiscal_year,
        'FY' as period,
        'last_year_value' as figure,
        1 as priority,
        quarters_last_year as expected_value,
        case
            when ytd_method = 'latest' then 'the Q4 last-year figure is'
            else 'the quarters'' last-year figures add up to'
        end as how

    from years_based

    union all

    select
        measure_id,
        series,
        fiscal_year,
        'FY' as period,
        'last_year_value' as figure,
        2 as priority,
        previous_year_value as expected_value,
        'the previous year''s published outturn is' as how

    from years_based

    union all

    select
        measure_id,
        series,
        fiscal_year,
        'FY' as period,
        'change' as figure,
        1 as priority,
        value_base - last_year_base as expected_value,
        'the year less last year gives' as how

    from years_based

    union all

    select
        measure_id,
        series,
        fiscal_year,
        'FY' as period,
        'pct_change' as figure,
        1 as priority,
        100.0 * (value_base - last_year_base) / nullif(last_year_base, 0) as expected_value,
        'the year and last year give' as how

    from years_based

    union all

    select
        years_based.measure_id,
        years_based.series,
        years_based.fiscal_year,
        'FY' as period,
        'baseline' as figure,
        1 as priority,
        previous_outturns.previous_outturn as expected_value,
        'the previous year''s outturn (the baseline of a rule that compares with last year) is'
            as how

    from years_based
    inner join previous_outturns
        on
            years_based.measure_id = previous_outturns.measure_id
            and years_based.series = previous_outturns.series
            and years_based.fiscal_year_start = previous_outturns.fiscal_year_start
    where years_based.target_rule in ('below_previous_year', 'above_baseline')

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

    select
        measure_id,
        series,
        fiscal_year,
        'FY' as period,
        'target_status' as figure,
        case
            when
                target_rule like 'below%' and value_base < baseline_base
                or target_rule = 'at_least_target' and value_base >= baseline_base
                or target_rule = 'above_baseline' and value_base > baseline_base
                then 'ACHIEVED'
            else 'NOT ACHIEVED'
        end as expected_text,
        'the year''s ' || {{ format_figure('value_base', 0) }}
        || ' against the baseline ' || {{ format_figure('baseline_base', 0) }}
        || ' gives' as how

    from years_based
    where
        value_base is not null
        and baseline_base is not null
        and target_rule in (
            'below_fixed_baseline', 'below_previous_year', 'at_least_target', 'above_baseline'
        )

),

-- IDVA engagement breakdown (6.4): the report quotes counts of referrals by
-- engagement category (context counts named after the category) beside the
-- engaged numerator; together they cannot exceed the referrals.

engagement_parts as (

    select
        measure_id,
        fiscal_year,
        period,
        sum(published_value) filter (
            where figure = 'context_count'
            and series in ('unable_to_contact', 'declined', 'other', 'pending')
        ) as context_parts,
        max(published_value) filter (
            where figure = 'numerator' and series = 'engaged_pct'
        ) as engaged,
        coalesce(
            max(published_value) filter (where figure = 'value' and series = 'referrals'),
            max(published_value) filter (
                where figure = 'denominator' and series = 'engaged_pct'
            )
        ) as referrals

    from published
    where measure_id = '6.4'
    group by measure_id, fiscal_year, period

),

engagement_expected as (

    select
        published.measure_id,
        published.series,
        published.fiscal_year,
        published.period,
        published.figure,
        engagement_parts.referrals - engagement_parts.engaged
        - (engagement_parts.context_parts - published.published_value) as expected_value,
        {{ format_figure('engagement_parts.engaged', 0) }} || ' engaged and '
        || {{ format_figure('engagement_parts.context_parts', 0) }}
        || ' in the categories quoted make '
        || {{ format_figure('engagement_parts.engaged + engagement_parts.context_parts', 0) }}
        || ', more than the ' || {{ format_figure('engagement_parts.referrals', 0) }}
        || ' referrals; beside the others it can be at most' as how

    from published
    inner join engagement_parts
        on
            published.measure_id = engagement_parts.measure_id
            and published.fiscal_year = engagement_parts.fiscal_year
            and published.period = engagement_parts.period
    where
        published.figure = 'context_count'
        and published.series in ('unable_to_contact', 'declined', 'other', 'pending')
        and engagement_parts.engaged + engagement_parts.context_parts
        > engagement_parts.referrals

),

engagement_recomputed as (

    select
        '6.4' as measure_id,
        idva_referrals.engagement as series,
        idva_referrals.fiscal_year,
        idva_referrals.period,
        'context_count' as figure,
        cast(count(*) as double) as expected_value

    from idva_referrals
    inner join facts
        on
            facts.measure_id = '6.4'
            and facts.series = 'referrals'
            and idva_referrals.fiscal_year = facts.fiscal_year
            and idva_referrals.period = 'Q' || facts.quarter
    where facts.data_status in ('reported', 'late')
    group by idva_referrals.engagement, idva_referrals.fiscal_year, idva_referrals.period

),

-- recomputed: the warehouse's own figures ---------------------------------------

recomputed_expected as (

    select
        facts.measure_id,
        facts.series,
        facts.fiscal_year,
        'Q' || facts.quarter as period,
        figures.figure,
        case figures.figure
            when 'value' then facts.value
            when 'last_year_value' then facts.last_year_value
            when 'change' then facts.change
            when 'pct_change' then facts.pct_change
            when 'ytd_value' then facts.ytd_value
            when 'ytd_last_year' then facts.ytd_last_year_value
            when 'ytd_change' then facts.ytd_change
            when 'ytd_pct_change' then facts.ytd_pct_change
            when 'numerator' then facts.numerator
            when 'denominator' then facts.denominator
            when 'baseline' then target_status.baseline
        end as expected_value,
        case figures.figure
            when 'return_status' then facts.data_status
        end as expected_text

    from facts
    cross join (
        values
        ('value'), ('last_year_value'), ('change'), ('pct_change'), ('ytd_value'),
        ('ytd_last_year'), ('ytd_change'), ('ytd_pct_change'), ('numerator'),
        ('denominator'), ('baseline'), ('return_status')
    ) as figures (figure)
    left join target_status
        on
            facts.measure_id = target_status.measure_id
            and facts.series = target_status.series
            and facts.fiscal_year = target_status.fiscal_year
            and facts.quarter = target_status.quarter

    union all

    select
        facts.measure_id,
        facts.series,
        facts.fiscal_year,
        'FY' as period,
        figures.figure,
        case figures.figure
            when 'value' then facts.ytd_value
            when 'last_year_value' then facts.ytd_last_year_value
            when 'change' then facts.ytd_change
            when 'pct_change' then facts.ytd_pct_change
            when 'baseline' then target_status.baseline
        end as expected_value,
        case figures.figure
            when 'target_status' then target_status.status
        end as expected_text

    from facts
    cross join (
        values ('value'), ('last_year_value'), ('change'), ('pct_change'), ('baseline'),
        ('target_status')
    ) as figures (figure)
    left join target_status
        on
            facts.measure_id = target_status.measure_id
            and facts.series = target_status.series
            and facts.fiscal_year = target_status.fiscal_year
            and facts.quarter = target_status.quarter
    where facts.quarter = 4

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
        'recomputed' as check_kind,
        expected_value,
        cast(null as varchar) as expected_text,
        'the IDVA records count' as how
    from engagement_recomputed

    union all

    select
        measure_id,
        series,
        fiscal_year,
        period,
        figure,
        'recomputed' as check_kind,
        expected_value,
        expected_text,
        'the warehouse computes' as how
    from recomputed_expected
    where expected_value is not null or expected_text is not null

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

)

select * from final
