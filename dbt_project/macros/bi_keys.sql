{#- Single-column keys of the star schema (docs/bi.md), one home for each rule.
    area_key is the local authority code itself. -#}
{% macro measure_key(area_code, measure_id, series) -%}
    ({{ area_code }} || '|' || {{ measure_id }} || '|' || {{ series }})
{%- endmacro %}

{% macro quarter_key(fiscal_year_start, quarter) -%}
    cast({{ fiscal_year_start }} * 10 + {{ quarter }} as integer)
{%- endmacro %}
