{{ config(materialized='table') }}
-- One row per area, catalogue series and fiscal quarter of the spine: the value
-- from whichever way of computing applies to the series, and the quarter's data
-- status against the return calendar on the as-of date.  Record counts carry their
-- area; every other way of computing (repeat callers and victims, rates, treatment
-- completions, partner returns) uses the home area's feeds and is the home area's.
-- The statuses and what they mean are the data_status seed; the order of the tests
-- in `statused` below is what decides which one applies.  A quarter an outstanding
-- rejected delivery would have fed is `rejected` (int_measure_quarter__rejections):
-- no value, so the last good figure is not shown as current.
with

spine as (

    select * from {{ ref('int_measure_spine') }}

),

catalogue as (

    select * from {{ ref('int_measure_catalogue') }}

),

data_status as (

    select * from {{ ref('data_status') }}

),

home_area as (

    select distinct area_code
    from spine
    where is_home_area

),

partner_returns as (

    select * from {{ ref('int_measure_quarter__partner_returns') }}

),

rejections as (

    select * from {{ ref('int_measure_quarter__rejections') }}

),

computed_by_way as (

    select * from {{ ref('int_measure_quarter__record_counts') }}
    union all by name
    select * from {{ ref('int_measure_quarter__repeat_callers') }}
    union all by name
    select * from {{ ref('int_measure_quarter__repeat_victims') }}
    union all by name
    select * from {{ ref('int_measure_quarter__record_rates') }}
    union all by name
    select * from {{ ref('int_measure_quarter__treatment_completions') }}
    union all by name
    select * exclude (return_status, return_note, agency, is_value_source)
    from partner_returns
    where is_value_source

),

computed as (

    select
        computed_by_way.* exclude (area_code),
        coalesce(computed_by_way.area_code, home_area.area_code) as area_code

    from computed_by_way
    cross join home_area

),

-- the current partner return of a series-quarter: a declaration, or its note
partner_notes as (

    select
        measure_id,
        series,
        fiscal_year,
        quarter,
        case when return_status = 'not_available' then received_at end as declared_at,
        case when return_status = 'not_available' then return_note end as declaration_note,
        case when return_status <> 'not_available' then return_note end as return_note

    from partner_returns
    where is_value_source or return_status = 'not_available'

),

joined as (

    select
        spine.area_code,
        spine.area_name,
        spine.is_home_area,
        spine.measure_id,
        spine.series,
        spine.fiscal_year,
        spine.fiscal_year_start,
        spine.quarter,
        spine.period_start,
        spine.period_end,
        spine.due_date,
        catalogue.unit,
        catalogue.method,
        catalogue.ytd_method,
        catalogue.owner,
        catalogue.is_derived,
        computed.value,
        computed.numerator,
        computed.denominator,
        cast(coalesce(computed.months_expected, 3) as integer) as months_expected,
        cast(coalesce(computed.months_received, 0) as integer) as months_received,
        computed.received_at,
        coalesce(computed.source, catalogue.source) as source,
        coalesce(computed.is_approximation, false) as is_approximation,
        partner_notes.declared_at,
        partner_notes.declaration_note,
        partner_notes.return_note,
        rejections.rejected_file,
        rejections.rejected_reason,
        rejections.rejected_at

    from spine
    inner join catalogue
        on {{ same_series('spine', 'catalogue') }}
    left join computed
        on {{ same_series_quarter('spine', 'computed') }}
    left join partner_notes
        on
            spine.is_home_area
            and {{ same_series_quarter('spine', 'partner_notes', with_area=false) }}
    left join rejections
        on {{ same_series_quarter('spine', 'rejections') }}

),

statused as (

    select
        *,
        case
            when rejected_file is not null then 'rejected'
            when
                months_received >= months_expected
                and cast(received_at as date) > due_date
                then 'late'
            when months_received >= months_expected then 'reported'
            when declared_at is not null then 'declared_not_available'
            when due_date >= {{ as_of_date() }} then 'not_yet_due'
            when months_received > 0 then 'partial'
            else 'missing'
        end as data_status

    from joined

),

final as (

    select
        area_code,
        area_name,
        is_home_area,
        measure_id,
        series,
        fiscal_year,
        fiscal_year_start,
        quarter,
        period_start,
        period_end,
        due_date,
        unit,
        method,
        ytd_method,
        owner,
        is_derived,
        -- a partial figure is kept (it is what was received); a rejected one is not
        case when data_status <> 'rejected' then value end as value,
        case when data_status <> 'rejected' then numerator end as numerator,
        case when data_status <> 'rejected' then denominator end as denominator,
        months_expected,
        months_received,
        received_at,
        case
            when data_status = 'rejected' then cast(rejected_at as date)
            when data_status = 'declared_not_available' then cast(declared_at as date)
            when months_received > 0 then cast(received_at as date)
        end as received_date,
        source,
        is_approximation,
        data_status,
        rejected_file,
        rejected_reason,
        case data_status
            when 'rejected' then 'rejected: ' || rejected_reason
            when 'declared_not_available' then declaration_note
            when 'late'
                then
                    coalesce(return_note || '; ', '')
                    || 'first received ' || strftime(received_at, '%d/%m/%Y')
                    || ', ' || (cast(received_at as date) - due_date)
                    || ' days after the due date'
            when 'partial'
                then
                    months_received || ' of ' || months_expected
                    || case when is_derived then ' component months' else ' months' end
                    || ' received'
            when 'missing' then 'nothing received'
            else return_note
        end as status_note

    from statused

)

select
    final.*,
    data_status.is_usable

from final
inner join data_status on final.data_status = data_status.code
