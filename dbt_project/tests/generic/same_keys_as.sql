{#- `model` and `other` hold exactly the same set of `columns` values (both ways). -#}
{% test same_keys_as(model, other, columns) %}

    with

    this_keys as (

        select distinct {{ columns | join(', ') }}
        from {{ model }}

    ),

    other_keys as (

        select distinct {{ columns | join(', ') }}
        from {{ other }}

    ),

    only_here as (

        select
            'only in {{ model.identifier }}' as difference,
            *
        from (select * from this_keys except select * from other_keys)

    ),

    only_there as (

        select
            'only in {{ other.identifier }}' as difference,
            *
        from (select * from other_keys except select * from this_keys)

    )

    select * from only_here
    union all
    select * from only_there

{% endtest %}
