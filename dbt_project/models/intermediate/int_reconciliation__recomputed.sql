-- Recomputed checks of the published report: what the warehouse's own marts give
-- for each published figure (fct_measure_quarter, fct_target_status; a year's
-- figures from Q4's year to date; return statuses from the data status) and the IDVA
-- records for the report's engagement counts (usable quarters only).  The home area's
-- only: the published report is its.  Read by fct_published_reconciliation.
with

partnership_area as (

    select * from {{ ref('int_partnership_area') }}
    where is_home_area

),

facts as (

    select
        measure_quarters.*,
        targets.baseline as target_baseline,
        targets.status_label as target_status

    from {{ ref('fct_measure_quarter') }} as measure_quarters
    left join {{ ref('fct_target_status') }} as targets
        on {{ same_series_quarter('measure_quarters', 'targets') }}
    where
        measure_quarters.area_code in (select partnership_area.area_code from partnership_area)

),

data_status as (

    select * from {{ ref('data_status') }}

),

idva_engagement as (

    select * from {{ ref('int_idva_engagement_counts') }}

),

engagement_recomputed as (

    select
        '6.4' as measure_id,
        idva_engagement.engagement as series,
        idva_engagement.fiscal_year,
        idva_engagement.period,
        'context_count' as figure,
        cast(idva_engagement.referrals as double) as expected_value,
        cast(null as varchar) as expected_text,
        'the IDVA records count' as how

    from idva_engagement
    inner join facts
        on
            facts.measure_id = '6.4'
            and facts.series = 'referrals'
            and idva_engagement.fiscal_year = facts.fiscal_year
            and idva_engagement.period = 'Q' || facts.quarter
    inner join data_status on facts.data_status = data_status.code
    where data_status.is_usable

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
            when 'baseline' then facts.target_baseline
        end as expected_value,
        case figures.figure
            when 'return_status' then facts.data_status
        end as expected_text,
        'the warehouse computes' as how

    from facts
    cross join (
        values
        ('value'), ('last_year_value'), ('change'), ('pct_change'), ('ytd_value'),
        ('ytd_last_year'), ('ytd_change'), ('ytd_pct_change'), ('numerator'),
        ('denominator'), ('baseline'), ('return_status')
    ) as figures (figure)

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
            when 'baseline' then facts.target_baseline
        end as expected_value,
        case figures.figure
            when 'target_status' then facts.target_status
        end as expected_text,
        'the warehouse computes' as how

    from facts
    cross join (
        values ('value'), ('last_year_value'), ('change'), ('pct_change'), ('baseline'),
        ('target_status')
    ) as figures (figure)
    where facts.quarter = 4

),

final as (

    select
        *,
        'recomputed' as check_kind

    from engagement_recomputed

    union all by name

    select
        *,
        'recomputed' as check_kind

    from recomputed_expected
    where expected_value is not null or expected_text is not null

)

select * from final
