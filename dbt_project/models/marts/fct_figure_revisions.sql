-- Every published figure that changed since it was first published: each later
-- publication whose value differs from the one before it, and the warehouse now
-- when it differs from the last publication ('not yet published').  Why, as far as
-- the ingest ledger tells: the deliveries of the series' feeds (police.uk too for a
-- police series) received between the two versions whose period overlaps the
-- figure's quarters, each classified by int_revisions__load_reasons.
-- A figure's quarters: the quarter (value), the same quarter last year
-- (last_year_value), both (change), Q1 to the quarter (ytd_value), and last year's.
with

ledger as (

    select * from {{ ref('int_revisions__published_figures') }}

),

facts as (

    select * from {{ ref('fct_measure_quarter') }}

),

measures as (

    select * from {{ ref('dim_measure') }}

),

classified_loads as (

    select * from {{ ref('int_revisions__load_reasons') }}

),

figure_keys as (

    select distinct
        area_code,
        measure_id,
        series,
        fiscal_year,
        quarter,
        figure
    from ledger

),

fact_figures as (

    select
        area_code,
        measure_id,
        series,
        fiscal_year,
        quarter,
        value,
        last_year_value,
        change,
        ytd_value,
        ytd_last_year_value,
        ytd_change

    from facts

),

unpivoted as (

    select *
    from fact_figures unpivot include nulls (
        value for figure in (
            value, last_year_value, change, ytd_value, ytd_last_year_value, ytd_change
        )
    )

),

current_values as (

    select unpivoted.*

    from unpivoted
    inner join figure_keys
        on {{ columns_equal('unpivoted', 'figure_keys', [
            'area_code', 'measure_id', 'series', 'fiscal_year', 'quarter', 'figure'
        ]) }}

),

versions as (

    select
        area_code,
        measure_id,
        series,
        fiscal_year,
        quarter,
        figure,
        value,
        published_at as version_at,
        published_at as sort_at,
        report_label as version_label

    from ledger

    union all

    select
        area_code,
        measure_id,
        series,
        fiscal_year,
        quarter,
        figure,
        value,
        cast(null as timestamp) as version_at,
        timestamp '9999-12-31' as sort_at,
        'not yet published (warehouse as of {{ var("as_of") }})' as version_label

    from current_values

),

sequenced as (

    select
        *,
        first_value(value) over by_figure as first_published_value,
        first_value(version_at) over by_figure as first_published_at,
        first_value(version_label) over by_figure as first_published_in,
        lag(value) over by_figure as previous_value,
        lag(sort_at) over by_figure as previous_at,
        row_number() over by_figure as version_number,
        make_date(cast(left(fiscal_year, 4) as integer), 4, 1) as year_start,
        make_date(cast(left(fiscal_year, 4) as integer), 4, 1)
        + to_months(3 * (quarter - 1)) as quarter_start

    from versions
    window by_figure as (
        partition by area_code, measure_id, series, fiscal_year, quarter, figure
        order by sort_at
    )

),

revised as (

    select
        sequenced.*,
        case
            when sequenced.figure = 'value' then sequenced.quarter_start
            when sequenced.figure = 'ytd_value' then sequenced.year_start
            when
                sequenced.figure in ('last_year_value', 'change')
                then sequenced.quarter_start - interval 12 month
            else sequenced.year_start - interval 12 month
        end as window_start,
        case
            when sequenced.figure in ('last_year_value', 'ytd_last_year_value')
                then sequenced.quarter_start - interval 9 month - interval 1 day
            else sequenced.quarter_start + interval 3 month - interval 1 day
        end as window_end

    from sequenced
    where
        sequenced.version_number > 1
        and sequenced.value is distinct from sequenced.previous_value
        and coalesce(abs(sequenced.value - sequenced.previous_value) >= 1e-9, true)

),

series_feeds as (

    select distinct
        area_code,
        measure_id,
        series,
        unnest(
            string_split(source, '+')
            || case when source like '%police_%' then ['policeuk_street'] else [] end
        ) as feed_name

    from measures

),

explained as (

    select
        revised.area_code,
        revised.measure_id,
        revised.series,
        revised.fiscal_year,
        revised.quarter,
        revised.figure,
        revised.sort_at,
        array_to_string(list_sort(list(distinct classified_loads.reason)), '; ') as reasons

    from revised
    inner join series_feeds
        on
            revised.area_code = series_feeds.area_code
            and revised.measure_id = series_feeds.measure_id
            and revised.series = series_feeds.series
    inner join classified_loads
        on
            series_feeds.feed_name = classified_loads.feed_name
            and classified_loads.received_at > coalesce(revised.previous_at, timestamp '1900-01-01')
            and revised.sort_at >= classified_loads.received_at
            and revised.window_end >= classified_loads.period_start
            and revised.window_start <= classified_loads.period_end
    group by all

),

final as (

    select
        {{ measure_key('revised.area_code', 'revised.measure_id', 'revised.series') }}
            as measure_key,
        {{ quarter_key_of('revised.fiscal_year', 'revised.quarter') }} as quarter_key,
        revised.area_code as area_key,
        revised.area_code,
        revised.measure_id,
        revised.series,
        revised.fiscal_year,
        revised.quarter,
        revised.figure,
        revised.first_published_value,
        revised.first_published_at,
        revised.first_published_in,
        revised.previous_value,
        revised.value as revised_value,
        revised.value - revised.previous_value as revision,
        revised.version_at as revised_at,
        revised.version_label as revised_in,
        coalesce(
            explained.reasons,
            'no delivery in the ledger explains it (a rule, a seed or the as-of date changed)'
        ) as reason

    from revised
    left join explained
        on {{ columns_equal('revised', 'explained', [
            'area_code', 'measure_id', 'series', 'fiscal_year', 'quarter', 'figure', 'sort_at'
        ]) }}

)

select * from final
