{#-
    True for rows of the partnership area: var `area` (CSP_AREA) is a local
    authority code or name, or `all`.
-#}
{% macro in_partnership_area(code_column, name_column) -%}
    (
        lower('{{ var("area") }}') = 'all'
        or {{ code_column }} = '{{ var("area") }}'
        or lower({{ name_column }}) = lower('{{ var("area") }}')
    )
{%- endmacro %}
