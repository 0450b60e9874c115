-- Counts of records per quarter: ASB incidents (1.3), MAASBT service requests
-- (1.4), crimes by offence group (2.1, 2.2, 2.3, 4.1; the offence_group_measures
-- seed maps offence groups, and police.uk's coarser crime types where they may
-- stand in, to measures) and IDVA referrals (6.4).  A quarter gets a row when
-- at least one of its months was delivered by a source that can give the series;
-- months_received says how many.  Per area: police counts for every area of the
-- police data (int_police_month_sources), MAASBT and IDVA for the home area.
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

service_requests as (

    select
        *,
        {{ fiscal_year_of('received_on') }} as fiscal_year,
        {{ fiscal_quarter_of('received_on') }} as quarter

    from {{ ref('stg_maasbt__service_requests') }}

),

idva_referrals as (

    select
        *,
        {{ fiscal_year_of('referred_on') }} as fiscal_year,
        {{ fiscal_quarter_of('referred_on') }} as quarter

    from {{ ref('stg_idva__referrals') }}

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
        area_code,
        '1.3' as measure_id,
        'total' as series,
        fiscal_year,
        quarter,
        month_start,
        source_feed,
        false as is_approximation,
        first_delivered_at

    from month_sources
    where record_kind = 'asb'

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
        case feed_months.feed_name
            when 'maasbt_service_requests' then '1.4'
            else '6.4'
        end as measure_id,
        case feed_months.feed_name
            when 'maasbt_service_requests' then 'total'
            else 'referrals'
        end as series,
        feed_months.fiscal_year,
        feed_months.quarter,
        feed_months.month_start,
        feed_months.feed_name as source_feed,
        false as is_approximation,
        feed_months.first_delivered_at

    from feed_months
    cross join home_area
    where feed_months.feed_name in ('maasbt_service_requests', 'idva_referrals')

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

    select
        area_code,
        '1.3' as measure_id,
        'total' as series,
        fiscal_year,
        quarter,
        sum(record_count) as record_count

    from asb_incidents
    group by area_code, fiscal_year, quarter

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
        '1.4' as measure_id,
        'total' as series,
        service_requests.fiscal_year,
        service_requests.quarter,
        count(*) as record_count

    from service_requests
    cross join home_area
    group by home_area.area_code, service_requests.fiscal_year, service_requests.quarter

    union all

    select
        home_area.area_code,
        '6.4' as measure_id,
        'referrals' as series,
        idva_referrals.fiscal_year,
        idva_referrals.quarter,
        count(*) as record_count

    from idva_referrals
    cross join home_area
    group by home_area.area_code, idva_referrals.fiscal_year, idva_referrals.quarter

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
        on
            quarter_coverage.area_code = record_counts.area_code
            and quarter_coverage.measure_id = record_counts.measure_id
            and quarter_coverage.series = record_counts.series
            and quarter_coverage.fiscal_year = record_counts.fiscal_year
            and quarter_coverage.quarter = record_counts.quarter

)

select * from quarter_values
