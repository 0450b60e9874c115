{#- The combination of `columns` is unique (a composite key); fails with each duplicate. -#}
{% test unique_combination(model, columns) %}

    select
        {{ columns | join(', ') }},
        count(*) as occurrences

    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1

{% endtest %}
