{#- Every row satisfies `expression` (optionally only rows matching `where_clause`). -#}
{% test expression_is_true(model, expression, where_clause='true') %}

    select *
    from {{ model }}
    where ({{ where_clause }}) and not coalesce(({{ expression }}), false)

{% endtest %}
