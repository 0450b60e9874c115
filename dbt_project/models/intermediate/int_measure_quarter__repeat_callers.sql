-- Repeat callers (1.1): caller references with at least
-- var('repeat_caller_min_contacts') contacts to one agency within the quarter.
-- Council: MAASBT service requests.  Police: ASB incidents of the force extract,
-- only for months whose export carries caller references (police.uk has none).
-- Combined: council plus police (the agencies' references cannot be matched); it
-- has a value only when both components do, and its months count both.
with

feed_months as (

    select * from {{ ref('int_feed_month_coverage') }}
    where is_covered

),

service_requests as (

    select * from {{ ref('stg_maasbt__service_requests') }}

),

police_incidents as (

    select * from {{ ref('int_police__asb_incidents') }}
    where source_format = 'force_extract'

),

police_caller_months as (

    select distinct reported_month
    from police_incidents
    where caller_hash is not null

),

series_months as (

    select
        'sbc' as series,
        fiscal_year,
        quarter,
        month_start,
        feed_name as source_feed,
        first_delivered_at

    from feed_months
    where feed_name = 'maasbt_service_requests'

    union all

    select
        'police' as series,
        feed_months.fiscal_year,
        feed_months.quarter,
        feed_months.month_start,
        feed_months.feed_name as source_feed,
        feed_months.first_delivered_at

    from feed_months
    inner join police_caller_months
        on feed_months.month_start = police_caller_months.reported_month
    where feed_months.feed_name = 'police_asb_incidents'

),

quarter_coverage as (

    select
        series,
        fiscal_year,
        quarter,
        count(*) as months_received,
        max(first_delivered_at) as received_at,
        string_agg(distinct source_feed, '+' order by source_feed) as source

    from series_months
    group by series, fiscal_year, quarter

),

contacts as (

    select
        'sbc' as series,
        fiscal_year,
        quarter,
        caller_hash

    from service_requests
    where caller_hash is not null

    union all

    select
        'police' as series,
        fiscal_year,
        quarter,
        caller_hash

    from police_incidents
    where caller_hash is not null

),

repeat_caller_list as (

    select
        series,
        fiscal_year,
        quarter,
        caller_hash

    from contacts
    group by series, fiscal_year, quarter, caller_hash
    having count(*) >= {{ var('repeat_caller_min_contacts') }}

),

repeat_caller_counts as (

    select
        series,
        fiscal_year,
        quarter,
        count(*) as repeat_callers

    from repeat_caller_list
    group by series, fiscal_year, quarter

),

agency_values as (

    select
        '1.1' as measure_id,
        quarter_coverage.series,
        quarter_coverage.fiscal_year,
        quarter_coverage.quarter,
        cast(coalesce(repeat_caller_counts.repeat_callers, 0) as double) as value,
        3 as months_expected,
        quarter_coverage.months_received,
        quarter_coverage.received_at,
        quarter_coverage.source

    from quarter_coverage
    left join repeat_caller_counts
        on
            quarter_coverage.series = repeat_caller_counts.series
            and quarter_coverage.fiscal_year = repeat_caller_counts.fiscal_year
            and quarter_coverage.quarter = repeat_caller_counts.quarter

),

council as (

    select * from agency_values
    where series = 'sbc'

),

police as (

    select * from agency_values
    where series = 'police'

),

combined as (

    select
        '1.1' as measure_id,
        'combined' as series,
        coalesce(council.fiscal_year, police.fiscal_year) as fiscal_year,
        coalesce(council.quarter, police.quarter) as quarter,
        case
            when
                council.months_received = council.months_expected
                and police.months_received = police.months_expected
                then council.value + police.value
        end as value,
        6 as months_expected,
        coalesce(council.months_received, 0)
        + coalesce(police.months_received, 0) as months_received,
        greatest(council.received_at, police.received_at) as received_at,
        concat_ws('+', council.source, police.source) as source

    from council
    full outer join police
        on
            council.fiscal_year = police.fiscal_year
            and council.quarter = police.quarter

),

all_series as (

    select * from agency_values
    union all
    select * from combined

),

final as (

    select
        measure_id,
        series,
        fiscal_year,
        quarter,
        value,
        cast(null as double) as numerator,
        cast(null as double) as denominator,
        months_expected,
        months_received,
        received_at,
        source,
        false as is_approximation

    from all_series

)

select * from final
