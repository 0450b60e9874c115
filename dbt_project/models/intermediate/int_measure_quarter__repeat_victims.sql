-- Repeat victims of criminal damage (4.2): victim references (victim_type person,
-- premises dwelling) with at least var('repeat_victim_min_offences') offences in
-- the Home Office group "Criminal damage" in the var('repeat_victim_window_months')
-- months ending at the quarter end.  Only the force extract has victims: months
-- police.uk stands in for are not received for this series.  months_received
-- counts the window's months, so a window reaching before the first extract is
-- partial.
with

spine_quarters as (

    select distinct
        fiscal_year,
        quarter,
        period_start,
        period_end

    from {{ ref('int_measure_spine') }}

),

month_sources as (

    select * from {{ ref('int_police_month_sources') }}
    where record_kind = 'crime' and source_format = 'force_extract'

),

damage_to_dwellings as (

    select * from {{ ref('int_police__crimes') }}
    where
        source_format = 'force_extract'
        and offence_group = 'Criminal damage'
        and victim_type = 'person'
        and premises_type = 'dwelling'
        and victim_hash is not null

),

windows as (

    select
        fiscal_year,
        quarter,
        period_end as window_end,
        cast(
            date_trunc('month', period_end)
            - to_months({{ var('repeat_victim_window_months') }} - 1) as date
        ) as window_start

    from spine_quarters

),

window_coverage as (

    select
        windows.fiscal_year,
        windows.quarter,
        count(*) as months_received,
        max(month_sources.first_delivered_at) as received_at

    from windows
    inner join month_sources
        on month_sources.month_start between windows.window_start and windows.window_end
    group by windows.fiscal_year, windows.quarter

),

repeat_victim_list as (

    select
        windows.fiscal_year,
        windows.quarter,
        damage_to_dwellings.victim_hash

    from windows
    inner join damage_to_dwellings
        on damage_to_dwellings.recorded_on between windows.window_start and windows.window_end
    group by windows.fiscal_year, windows.quarter, damage_to_dwellings.victim_hash
    having count(*) >= {{ var('repeat_victim_min_offences') }}

),

repeat_victim_counts as (

    select
        fiscal_year,
        quarter,
        count(*) as repeat_victims

    from repeat_victim_list
    group by fiscal_year, quarter

),

final as (

    select
        '4.2' as measure_id,
        'total' as series,
        window_coverage.fiscal_year,
        window_coverage.quarter,
        cast(coalesce(repeat_victim_counts.repeat_victims, 0) as double) as value,
        cast(null as double) as numerator,
        cast(null as double) as denominator,
        {{ var('repeat_victim_window_months') }} as months_expected,
        window_coverage.months_received,
        window_coverage.received_at,
        'police_recorded_crime' as source,
        false as is_approximation

    from window_coverage
    left join repeat_victim_counts
        on
            window_coverage.fiscal_year = repeat_victim_counts.fiscal_year
            and window_coverage.quarter = repeat_victim_counts.quarter

)

select * from final
