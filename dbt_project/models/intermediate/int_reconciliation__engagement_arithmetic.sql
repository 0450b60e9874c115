-- IDVA engagement breakdown (6.4): the report quotes counts of referrals by
-- engagement category (context counts named after the category) beside the engaged
-- numerator; together they cannot exceed the referrals.  One row per context count
-- that makes them exceed it, with the most it can be.
with

published as (

    select * from {{ ref('int_published_figures') }}

),

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

)

select * from engagement_expected
