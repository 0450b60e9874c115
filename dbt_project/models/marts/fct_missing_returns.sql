-- Every series-quarter whose due date had passed on the as-of date without a
-- usable figure by then: missing, declared not available, partial, or late (a
-- figure that arrived after its due date).  Monitored from the plan's first year
-- (var('returns_monitored_from')).  A derived series (1.1 combined) is never
-- listed: its components are, and they name the agency to chase.  Per area: an
-- area other than the home area (CSP_AREA=all) has only its police.uk series in the
-- spine, so only those can be listed for it.  Which statuses are return gaps is
-- the data_status seed's is_return_gap.
with

measure_quarters as (

    select * from {{ ref('int_measure_quarter') }}

),

data_status as (

    select * from {{ ref('data_status') }}

),

final as (

    select
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
            case
                when measure_quarters.data_status = 'late'
                    then measure_quarters.received_date - measure_quarters.due_date
                else {{ as_of_date() }} - measure_quarters.due_date
            end as integer
        ) as days_overdue,
        measure_quarters.status_note as note

    from measure_quarters
    inner join data_status on measure_quarters.data_status = data_status.code
    where
        data_status.is_return_gap
        and measure_quarters.due_date < {{ as_of_date() }}
        and not measure_quarters.is_derived
        and measure_quarters.fiscal_year >= '{{ var("returns_monitored_from") }}'

)

select * from final
