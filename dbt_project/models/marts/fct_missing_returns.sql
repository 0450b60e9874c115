-- Every series-quarter whose due date had passed on the as-of date without a
-- usable figure by then: missing, declared not available, partial, or late (a
-- figure that arrived after its due date); and every quarter an outstanding
-- rejected delivery would have fed, due or not (rejected: the file and the reason).
-- Monitored from the plan's first year (var('returns_monitored_from')).  A derived
-- series (1.1 combined) is never listed: its components are, and they name the
-- agency to chase.  Per area: an area other than the home area (CSP_AREA=all) has
-- only its police.uk series in the spine, so only those can be listed for it.
-- Which statuses are return gaps is the data_status seed's is_return_gap.  Days
-- overdue stop at the day the gap ended: a late figure's arrival, or a declaration
-- that the figure is not available (the agency answered; nothing more to chase).
with

measure_quarters as (

    select * from {{ ref('int_measure_quarter') }}

),

data_status as (

    select * from {{ ref('data_status') }}

),

agencies as (

    select * from {{ ref('agencies') }}

),

final as (

    select
        {{ measure_key(
            'measure_quarters.area_code',
            'measure_quarters.measure_id',
            'measure_quarters.series'
        ) }} as measure_key,
        {{ quarter_key('measure_quarters.fiscal_year_start', 'measure_quarters.quarter') }}
            as quarter_key,
        measure_quarters.area_code as area_key,
        agencies.agency_code as agency_key,
        measure_quarters.area_code,
        measure_quarters.area_name,
        measure_quarters.measure_id,
        measure_quarters.series,
        measure_quarters.fiscal_year,
        measure_quarters.quarter,
        measure_quarters.source,
        measure_quarters.owner,
        measure_quarters.due_date,
        measure_quarters.received_date,
        measure_quarters.data_status as status,
        cast(
            greatest(
                case
                    when measure_quarters.data_status in ('late', 'declared_not_available')
                        then
                            least(measure_quarters.received_date, {{ as_of_date() }})
                            - measure_quarters.due_date
                    else {{ as_of_date() }} - measure_quarters.due_date
                end,
                0
            ) as integer
        ) as days_overdue,
        measure_quarters.rejected_file,
        measure_quarters.rejected_reason,
        measure_quarters.status_note as note

    from measure_quarters
    inner join data_status on measure_quarters.data_status = data_status.code
    left join agencies on measure_quarters.owner = agencies.owner
    where
        data_status.is_return_gap
        and (
            measure_quarters.due_date < {{ as_of_date() }}
            or measure_quarters.data_status = 'rejected'
        )
        and not measure_quarters.is_derived
        and measure_quarters.fiscal_year >= '{{ var("returns_monitored_from") }}'

)

select * from final
