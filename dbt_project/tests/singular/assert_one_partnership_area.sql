-- CSP_AREA must name exactly one local authority of the local_authorities seed (or
-- be 'all'), and there must be exactly one home area (CSP_HOME_AREA, a known
-- authority; with one area, that area): otherwise the marts would be empty or the
-- council and partner feeds would belong to no area.
select
    count(*) as areas,
    count(*) filter (where is_home_area) as home_areas

from {{ ref('int_partnership_area') }}
having
    count(*) filter (where is_home_area) <> 1
    {% if not is_all_areas() -%}
        or count(*) <> 1
    {%- endif %}
