-- The measure catalogue (measures seed, a copy of the design's measures.csv) with
-- how each series is computed and when its return is due, per area: the home area
-- has every series, another area (CSP_AREA=all) the series police.uk can give.
-- Baselines and targets per plan year are rows of fct_measure_target_year; the
-- measure's full published description is the measure_descriptions seed's.
with

measures as (

    select * from {{ ref('measures') }}

),

catalogue as (

    select * from {{ ref('int_measure_catalogue') }}

),

partnership_area as (

    select * from {{ ref('int_partnership_area') }}

),

agencies as (

    select * from {{ ref('agencies') }}

),

descriptions as (

    select * from {{ ref('measure_descriptions') }}

),

final as (

    select
        {{ measure_key('partnership_area.area_code', 'catalogue.measure_id', 'catalogue.series') }}
            as measure_key,
        partnership_area.area_code as area_key,
        agencies.agency_code as agency_key,
        partnership_area.area_code,
        partnership_area.area_name,
        catalogue.measure_id,
        catalogue.series,
        catalogue.theme,
        catalogue.title,
        catalogue.source,
        catalogue.unit,
        catalogue.direction,
        catalogue.target_rule,
        catalogue.owner,
        catalogue.method,
        catalogue.method_description,
        catalogue.ytd_method,
        catalogue.due_days,
        catalogue.is_derived,
        catalogue.sort_order,
        catalogue.noun_one,
        catalogue.noun_many,
        descriptions.description

    from catalogue
    inner join measures
        on
            catalogue.measure_id = measures.measure_id
            and catalogue.series = measures.series
    inner join partnership_area
        on partnership_area.is_home_area or catalogue.has_policeuk_source
    left join agencies
        on catalogue.owner = agencies.owner
    left join descriptions
        on catalogue.measure_id = descriptions.measure_id

)

select * from final
