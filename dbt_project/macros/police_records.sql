{#- Police records of one kind from the month's chosen source (int_police_month_sources):
    the force extract where it covers the month, police.uk counts otherwise.  One row per
    force-extract record (record_count 1) or per police.uk area, month and type
    (record_count rows).  `columns` are the kind's own columns (before the area),
    `after_count` the ones after record_count; `month_column` dates the record. -#}
{% macro police_records(
    record_kind, force_extract, policeuk, month_column, columns, after_count=[]
) -%}
with

force_extract as (

    select * from {{ ref(force_extract) }}

),

policeuk as (

    select * from {{ ref(policeuk) }}

),

month_sources as (

    select * from {{ ref('int_police_month_sources') }}
    where record_kind = '{{ record_kind }}'

),

unioned as (

    select * from force_extract
    union all by name
    select * from policeuk

),

chosen as (

    select
        unioned.{{ columns | join(',\n        unioned.') }},
        unioned.ward_code,
        unioned.lsoa_code,
        month_sources.area_code,
        month_sources.area_name,
        coalesce(unioned.record_count, 1) as record_count,
        {{ after_count | join(',\n        ') }}{% if after_count %},{% endif %}
        unioned.source_format,
        unioned.is_approximation,
        unioned.load_id,
        unioned.delivered_at,
        month_sources.fiscal_year,
        month_sources.quarter

    from unioned
    inner join month_sources
        on
            unioned.{{ month_column }} = month_sources.month_start
            and unioned.source_format = month_sources.source_format
            -- force extract rows belong to the home area, whose months they cover
            and (
                unioned.source_format = 'force_extract'
                or unioned.area_code = month_sources.area_code
            )

)

select * from chosen
{%- endmacro %}
