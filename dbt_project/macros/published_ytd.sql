{#-
    A published quarter's year to date worked out from the published quarters
    (int_published_figures__quarters), for this year's figures and for last
    year's alike: the sum of the year's quarters when every one so far is
    published, else the previous quarter's year to date plus the quarter.  Gives
    the column `alias` and `alias`_how, the sentence that says which way was used
    (`which` names the figures in it: '' or 'last-year ', `ytd_which` '' or ' last year').
-#}
{% macro derived_ytd(alias, value, count_so_far, sum_so_far, previous_ytd, which, ytd_which) -%}
    case
        when {{ count_so_far }} = quarter then {{ sum_so_far }}
        when quarter = 1 then {{ value }}
        else {{ previous_ytd }} + {{ value }}
    end as {{ alias }},
    case
        when {{ count_so_far }} = quarter
            then 'the published {{ which }}quarters add up to'
        else 'the previous quarter''s year to date{{ ytd_which }} plus the quarter gives'
    end as {{ alias }}_how
{%- endmacro %}
