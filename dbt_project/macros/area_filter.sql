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

{#- True when var `area` is `all`: police.uk rows of every known authority count. -#}
{% macro is_all_areas() -%}
    {{ return((var("area") | trim | lower) == 'all') }}
{%- endmacro %}

{#-
    The home area as configured (a code or a name): var `home_area` (CSP_HOME_AREA)
    when set, else the area itself when var `area` is one area, else E06000004.
-#}
{% macro home_area() -%}
    {%- set configured = var("home_area", "") | trim -%}
    {%- if configured == "" -%}
        {%- set configured = "E06000004" if is_all_areas() else (var("area") | trim) -%}
    {%- endif -%}
    {{ return(configured) }}
{%- endmacro %}

{#- True for the home area's row of the local_authorities seed. -#}
{% macro is_home_area(code_column, name_column) -%}
    (
        lower({{ code_column }}) = lower('{{ home_area() }}')
        or lower({{ name_column }}) = lower('{{ home_area() }}')
    )
{%- endmacro %}
