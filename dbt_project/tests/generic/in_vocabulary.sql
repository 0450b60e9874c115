{#- Every non-null `column_name` is one of `to`'s `field` values whose row matches
    `to_where`: the allowed values come from a seed, never a copied list. -#}
{% test in_vocabulary(model, column_name, to, field, to_where='true') %}

    select {{ column_name }}
    from {{ model }}
    where
        {{ column_name }} is not null
        and {{ column_name }} not in (select {{ field }} from {{ to }} where {{ to_where }})

{% endtest %}
