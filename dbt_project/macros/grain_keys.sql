{#-
    The grains the measure models join on, written once: a catalogue series
    (measure_id, series; `with_area=true` for an area's series) and a series-quarter
    (area_code, measure_id, series, fiscal_year, quarter; `with_area=false` for the
    home area's own figures, which carry no area).  Each macro gives a join's on
    clause between relations `left` and `right` (columns_equal, macros/analysis_stats.sql).
-#}
{% macro same_series(left, right, with_area=false) -%}
    {{ columns_equal(
        left, right, (['area_code'] if with_area else []) + ['measure_id', 'series']
    ) }}
{%- endmacro %}

{% macro same_series_quarter(left, right, with_area=true) -%}
    {{ columns_equal(
        left, right,
        (['area_code'] if with_area else []) + ['measure_id', 'series', 'fiscal_year', 'quarter']
    ) }}
{%- endmacro %}
