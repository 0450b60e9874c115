-- Police ASB incidents from one source per month (int_police_month_sources): the
-- force extract where it covers the month, police.uk counts otherwise.
-- One row per force-extract record (record_count 1) or per police.uk area, month
-- and crime type (record_count rows); count with sum(record_count).
with

force_extract as (

    select * from {{ ref('stg_police__asb_incidents') }}

),

policeuk as (

    select * from {{ ref('stg_policeuk__asb_incidents') }}

),

month_sources as (

    select * from {{ ref('int_police_month_sources') }}
    where record_kind = 'asb'

),

unioned as (

    select * from force_extract
    union all by name
    select * from policeuk

),

chosen as (

    select
        unioned.incident_ref,
        unioned.reported_on,
        unioned.reported_month,
        unioned.asb_category,
        unioned.ward_code,
        unioned.lsoa_code,
        month_sources.area_code,
        month_sources.area_name,
        coalesce(unioned.record_count, 1) as record_count,
        unioned.caller_hash,
        unioned.source_format,
        unioned.is_approximation,
        unioned.load_id,
        unioned.delivered_at,
        month_sources.fiscal_year,
        month_sources.quarter

    from unioned
    inner join month_sources
        on
            unioned.reported_month = month_sources.month_start
            and unioned.source_format = month_sources.source_format
            -- force extract rows belong to the home area, whose months they cover
            and (
                unioned.source_format = 'force_extract'
                or unioned.area_code = month_sources.area_code
            )

)

select * from chosen
