-- Counts of records per quarter, as the seeds say: record_count_sources maps the
-- police ASB records and the home area's record feeds (int_feed_records) to count
-- measures; offence_group_measures maps offence groups, and police.uk's coarser
-- crime types where they may stand in, to measures.  A quarter gets a row when at
-- least one of its months was delivered by a source that can give the series;
-- months_received says how many.  Per area: police counts for every area of the
-- police data (int_police_month_sources), feed counts for the home area.
with

month_sources as (

    select * from {{ ref('int_police_month_sources') }}

),

feed_months as (

    select * from {{ ref('int_feed_month_coverage') }}
    where is_covered

),

home_area as (

    select * from {{ ref('int_partnership_area') }}
    where is_home_area

),

offence_group_measures as (

    select * from {{ ref('offence_group_measures') }}

),

asb_incidents as (

    select * from {{ ref('int_police__asb_incidents') }}

),

crimes as (

    select * from {{ ref('int_police__crimes') }}

),

feed_records as (

    select * from {{ ref('int_feed_records') }}

),

police_counted as (

    select * from {{ ref('record_count_sources') }}
    where police_record_kind is not null

),

feed_counted as (

    select * from {{ ref('record_count_sources') }}
    where feed_name is not null

),

-- the series' months and where they came from ------------------------------------

crime_series_sources as (

    select distinct
        measure_id,
        series,
        source_format,
        is_approximation

    from offence_group_measures

),

series_months as (

    -- police.uk ASB rows are the same incidents at month precision: no approximation
    select
        month_sources.area_code,
        police_counted.measure_id,
        police_counted.series,
        month_sources.fiscal_year,
        month_sources.quarter,
        month_sources.month_start,
        month_sources.source_feed,
        false as is_approximation,
        month_sources.first_delivered_at

    from month_sources
    inner join police_counted
        on month_sources.record_kind = police_counted.police_record_kind

    union all

    select
        month_sources.area_code,
        crime_series_sources.measure_id,
        crime_series_sources.series,
        month_sources.fiscal_year,
        month_sources.quarter,
        month_sources.month_start,
        month_sources.source_feed,
        crime_series_sources.is_approximation,
        month_sources.first_delivered_at

    from month_sources
    inner join crime_series_sources
        on month_sources.source_format = crime_series_sources.source_format
    where month_sources.record_kind = 'crime'

    union all

    select
        home_area.area_code,
        feed_counted.measure_id,
        feed_counted.series,
        feed_months.fiscal_year,
        feed_months.quarter,
        feed_months.month_start,
        feed_months.feed_name as source_feed,
        false as is_approximation,
        feed_months.first_delivered_at

    from feed_months
    inner join feed_counted on feed_months.feed_name = feed_counted.feed_name
    cross join home_area

),

quarter_coverage as (

    select
        area_code,
        measure_id,
        series,
        fiscal_year,
        quarter,
        count(*) as months_received,
        max(first_delivered_at) as received_at,
        string_agg(distinct source_feed, '+' order by source_feed) as source,
        bool_or(is_approximation) as is_approximation

    from series_months
    group by area_code, measure_id, series, fiscal_year, quarter

),

-- the counts ----------------------------------------------------------------------

record_counts as (

    -- the police record kind counted here is ASB (the seed's accepted values)
    select
        asb_incidents.area_code,
        police_counted.measure_id,
        police_counted.series,
        asb_incidents.fiscal_year,
        asb_incidents.quarter,
        sum(asb_incidents.record_count) as record_count

    from asb_incidents
    inner join police_counted on police_counted.police_record_kind = 'asb'
    group by
        asb_incidents.area_code,
        police_counted.measure_id,
        police_counted.series,
        asb_incidents.fiscal_year,
        asb_incidents.quarter

    union all

    select
        crimes.area_code,
        offence_group_measures.measure_id,
        offence_group_measures.series,
        crimes.fiscal_year,
        crimes.quarter,
        sum(crimes.record_count) as record_count

    from crimes
    inner join offence_group_measures
        on
            crimes.source_format = offence_group_measures.source_format
            and crimes.offence_group = offence_group_measures.offence_group
    group by
        crimes.area_code,
        offence_group_measures.measure_id,
        offence_group_measures.series,
        crimes.fiscal_year,
        crimes.quarter

    union all

    select
        home_area.area_code,
        feed_counted.measure_id,
        feed_counted.series,
        feed_records.fiscal_year,
        feed_records.quarter,
        feed_records.record_count

    from feed_records
    inner join feed_counted on feed_records.feed_name = feed_counted.feed_name
    cross join home_area

),

quarter_values as (

    select
        quarter_coverage.area_code,
        quarter_coverage.measure_id,
        quarter_coverage.series,
        quarter_coverage.fiscal_year,
        quarter_coverage.quarter,
        cast(coalesce(record_counts.record_count, 0) as double) as value,
        cast(null as double) as numerator,
        cast(null as double) as denominator,
        3 as months_expected,
        quarter_coverage.months_received,
        quarter_coverage.received_at,
        quarter_coverage.source,
        quarter_coverage.is_approximation

    from quarter_coverage
    left join record_counts
        on {{ same_series_quarter('quarter_coverage', 'record_counts') }}

)

select * from quarter_values
