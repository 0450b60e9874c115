{#- The run's as-of date (var `as_of`, from CSP_AS_OF) as a SQL date literal. -#}
{% macro as_of_date() -%}
    cast('{{ var("as_of") }}' as date)
{%- endmacro %}
