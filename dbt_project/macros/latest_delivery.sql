{#- Row-level "latest delivery wins" (docs/architecture.md, "Latest delivery wins"):
    of the rows of usable loads, one per natural key `partition_by`: the latest
    `delivered_at`, then the highest `load_id` (then `source_row` when a file may repeat
    a key, `by_row=true`).  The GX contract suite's natural-key uniqueness uses the same
    order (expectations/feed_frames.py DELIVERY_ORDER). -#}
{% macro latest_delivery(partition_by, by_row=false) -%}
    qualify row_number() over (
        partition by {{ partition_by }}
        order by delivered_at desc, load_id desc{% if by_row %}, source_row desc{% endif %}
    ) = 1
{%- endmacro %}
