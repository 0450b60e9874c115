{#- Fiscal year (April to March) of a date, as '2016/17'. -#}
{% macro fiscal_year_of(date_expr) -%}
    (
        cast(year({{ date_expr }}) - (month({{ date_expr }}) < 4)::integer as varchar)
        || '/'
        || lpad(cast((year({{ date_expr }}) - (month({{ date_expr }}) < 4)::integer + 1) % 100 as varchar), 2, '0')
    )
{%- endmacro %}

{#- Fiscal quarter (1 = April to June ... 4 = January to March) of a date. -#}
{% macro fiscal_quarter_of(date_expr) -%}
    ((month({{ date_expr }}) + 8) % 12 // 3 + 1)
{%- endmacro %}

{#- Percentage of a numerator over a denominator; null when the denominator is 0. -#}
{% macro safe_pct(numerator, denominator) -%}
    (100.0 * {{ numerator }} / nullif({{ denominator }}, 0))
{%- endmacro %}

{#- A running number of fiscal quarters (fiscal year start * 4 + quarter - 1). -#}
{% macro fiscal_quarter_index_of(date_expr) -%}
    ((year({{ date_expr }}) - (month({{ date_expr }}) < 4)::integer) * 4 + (month({{ date_expr }}) + 8) % 12 // 3)
{%- endmacro %}

{#- A number as the report prints it: thousands separators, `decimals` places. -#}
{% macro format_figure(value, decimals) -%}
    format('{:,.{}f}', {{ value }}, {{ decimals }})
{%- endmacro %}

{#- The fiscal year and quarter columns of a record dated `date_expr`: staging emits
    them once, everything downstream reads them. -#}
{% macro fiscal_period_of(date_expr) -%}
    {{ fiscal_year_of(date_expr) }} as fiscal_year,
    {{ fiscal_quarter_of(date_expr) }} as quarter
{%- endmacro %}
