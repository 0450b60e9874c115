-- depends_on: {{ ref('base_policeuk__street_counts') }}
-- The local authorities the marts report on, and which of them is the home area
-- (macro home_area(): var home_area, CSP_HOME_AREA, else the area itself, else
-- E06000004).  With var `area` (CSP_AREA) one code or name of the local_authorities
-- seed: that authority.  With `all`: the home area plus every authority present in
-- the usable police.uk data.  The home area's council and partner feeds and the
-- force extracts belong to it alone.
with

local_authorities as (

    select * from {{ ref('local_authorities') }}

),

-- every authority of the usable police.uk data (CSP_AREA=all only: with one area
-- the ingest keeps that area's rows alone, and the data is not read here)
police_areas as (

    {% if is_all_areas() -%}
        select distinct street_counts.area_code
        from {{ ref('base_policeuk__street_counts') }} as street_counts
    {%- else -%}
        select cast(null as varchar) as area_code
        where false
    {%- endif %}

),

configured as (

    select
        local_authorities.area_code,
        local_authorities.area_name

    from local_authorities
    where
        {% if is_all_areas() -%}
            {{ is_home_area('local_authorities.area_code', 'local_authorities.area_name') }}
        {%- else -%}
            {{ in_partnership_area('local_authorities.area_code', 'local_authorities.area_name') }}
        {%- endif %}
        or local_authorities.area_code in (select police_areas.area_code from police_areas)

),

flagged as (

    select
        area_code,
        area_name,
        {{ is_home_area('area_code', 'area_name') }} as is_home_area

    from configured

)

select * from flagged
