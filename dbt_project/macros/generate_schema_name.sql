{#-
    Custom schemas are used as named (staging, intermediate, marts, reference)
    instead of dbt's default <target schema>_<custom schema>, so BI tools find the
    marts in the schema `marts` whatever the target.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
