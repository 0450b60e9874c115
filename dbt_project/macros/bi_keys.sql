{#- Single-column keys of the star schema (docs/bi.md), one home for each rule.
    area_key is the local authority code itself. -#}
{% macro measure_key(area_code, measure_id, series) -%}
    ({{ area_code }} || '|' || {{ measure_id }} || '|' || {{ series }})
{%- endmacro %}

{% macro quarter_key(fiscal_year_start, quarter) -%}
    cast({{ fiscal_year_start }} * 10 + {{ quarter }} as integer)
{%- endmacro %}

{#- The same key from a fiscal year label ('2016/17') and a quarter number. -#}
{% macro quarter_key_of(fiscal_year, quarter) -%}
    {{ quarter_key('cast(left(' ~ fiscal_year ~ ', 4) as integer)', quarter) }}
{%- endmacro %}
