-- The series-quarters an outstanding rejected delivery would have fed: one row per
-- area, series and fiscal quarter, with the rejected file(s) and the reason(s).
-- int_measure_quarter gives them the status `rejected` (no value), so the last good
-- figure is never shown as current.  Which series a feed feeds is the catalogue's
-- `source` (feeds joined by '+'); a partner return feeds the partner-return series
-- of the agency it names (its scope: the catalogue owner), or every partner-return
-- series when the agency cannot be read or is not an owner; police.uk feeds the
-- series police.uk can give, for the area-months no force extract covers.  A force
-- extract or a council or partner feed is the home area's.
with

rejections as (

    select * from {{ ref('int_ingest__rejected_deliveries') }}
    where is_outstanding

),

catalogue as (

    select * from {{ ref('int_measure_catalogue') }}

),

spine as (

    select * from {{ ref('int_measure_spine') }}

),

fiscal_months as (

    select * from {{ ref('int_fiscal_months') }}

),

month_sources as (

    select * from {{ ref('int_police_month_sources') }}

),

series_feeds as (

    select
        measure_id,
        series,
        owner,
        has_policeuk_source,
        unnest(string_split(source, '+')) as feed_name

    from catalogue

),

rejected_quarters as (

    select distinct
        rejections.load_id,
        rejections.feed_name,
        rejections.load_scope,
        fiscal_months.fiscal_year,
        fiscal_months.quarter,
        fiscal_months.month_start

    from rejections
    inner join fiscal_months
        on fiscal_months.month_start between rejections.period_start and rejections.period_end

),

-- a partner return's agency, when it owns partner-return series
owning_scopes as (

    select distinct owner as load_scope
    from series_feeds
    where feed_name = 'partner_returns'

),

fed as (

    -- force extracts, council and partner feeds: the catalogue's source
    select
        rejected_quarters.load_id,
        series_feeds.measure_id,
        series_feeds.series,
        rejected_quarters.fiscal_year,
        rejected_quarters.quarter,
        null as area_code

    from rejected_quarters
    inner join series_feeds on rejected_quarters.feed_name = series_feeds.feed_name
    left join owning_scopes on rejected_quarters.load_scope = owning_scopes.load_scope
    where
        rejected_quarters.feed_name <> 'policeuk_street'
        and (
            rejected_quarters.feed_name <> 'partner_returns'
            or owning_scopes.load_scope is null
            or series_feeds.owner = owning_scopes.load_scope
        )

    union all

    -- police.uk: the series it can give, where no force extract covers the month
    select
        rejected_quarters.load_id,
        series_feeds.measure_id,
        series_feeds.series,
        rejected_quarters.fiscal_year,
        rejected_quarters.quarter,
        spine.area_code

    from rejected_quarters
    inner join series_feeds on series_feeds.has_policeuk_source
    inner join spine
        on
            series_feeds.measure_id = spine.measure_id
            and series_feeds.series = spine.series
            and rejected_quarters.fiscal_year = spine.fiscal_year
            and rejected_quarters.quarter = spine.quarter
    where
        rejected_quarters.feed_name = 'policeuk_street'
        and not exists (
            select 1 as covered from month_sources
            where
                month_sources.source_format = 'force_extract'
                and month_sources.area_code = spine.area_code
                and month_sources.month_start = rejected_quarters.month_start
        )

),

final as (

    select
        spine.area_code,
        spine.measure_id,
        spine.series,
        spine.fiscal_year,
        spine.quarter,
        string_agg(distinct rejections.file_name, '; ' order by rejections.file_name)
            as rejected_file,
        string_agg(distinct rejections.error_message, '; ' order by rejections.error_message)
            as rejected_reason,
        max(rejections.received_at) as rejected_at

    from fed
    inner join rejections on fed.load_id = rejections.load_id
    inner join spine
        on
            {{ same_series_quarter('fed', 'spine', with_area=false) }}
            and coalesce(fed.area_code, spine.area_code) = spine.area_code
            and (fed.area_code is not null or spine.is_home_area)
    group by all

)

select * from final
