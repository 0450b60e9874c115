{#-
    The statistics of the analysis marts, one home each (docs/analysis.md).
    Every formula here is unit-tested on worked examples through the models that
    use it (dbt unit tests in models/analysis/*.yml).
-#}

{#- The number of most similar authorities in a peer group (var peer_group_size, default 15). -#}
{% macro peer_group_size() -%}
    {{ return(var('peer_group_size', 15) | int) }}
{%- endmacro %}

{#-
    The target rules a year-end forecast is made for (fct_year_end_forecast): every rule
    with an annual target level (not none, monitor or baseline to be confirmed).
-#}
{% macro forecast_target_rules() -%}
    'below_fixed_baseline', 'below_previous_year', 'at_least_target', 'above_baseline'
{%- endmacro %}

{#- Two-sided normal quantiles: 95 % -> 1.959964, 99.8 % -> 3.090232, 80 % -> 1.281552. -#}
{% macro z_95() -%} cast(1.959963985 as double) {%- endmacro %}
{% macro z_998() -%} cast(3.090232306 as double) {%- endmacro %}
{% macro z_80() -%} cast(1.281551566 as double) {%- endmacro %}

{#- Wheeler's z for two Poisson counts: 2 (sqrt(current) - sqrt(previous)); alert when |z| >= 3. -#}
{% macro wheeler_z(current, previous) -%}
    (2.0 * (sqrt({{ current }}) - sqrt({{ previous }})))
{%- endmacro %}

{% macro wheeler_threshold() -%} cast(3.0 as double) {%- endmacro %}

{#-
    Two-proportion z test (pooled): (p1 - p2) / sqrt(p (1 - p) (1/d1 + 1/d2)) with
    p = (n1 + n2) / (d1 + d2); null when the pooled proportion is 0 or 1.
-#}
{% macro two_proportion_z(n1, d1, n2, d2) -%}
    (
        ({{ n1 }} / {{ d1 }} - {{ n2 }} / {{ d2 }})
        / nullif(sqrt(
            (({{ n1 }} + {{ n2 }}) / ({{ d1 }} + {{ d2 }}))
            * (1 - ({{ n1 }} + {{ n2 }}) / ({{ d1 }} + {{ d2 }}))
            * (1.0 / {{ d1 }} + 1.0 / {{ d2 }})
        ), 0)
    )
{%- endmacro %}

{#-
    Wilson score interval of a proportion n/d, in percent, at normal quantile z:
    (p + z^2/2d -/+ z sqrt(p(1-p)/d + z^2/4d^2)) / (1 + z^2/d).
-#}
{% macro wilson_bound(n, d, z, sign) -%}
    (100.0 * (
        {{ n }} / {{ d }} + {{ z }} * {{ z }} / (2.0 * {{ d }})
        {{ sign }} {{ z }} * sqrt(
            ({{ n }} / {{ d }}) * (1 - {{ n }} / {{ d }}) / {{ d }}
            + {{ z }} * {{ z }} / (4.0 * {{ d }} * {{ d }})
        )
    ) / (1 + {{ z }} * {{ z }} / {{ d }}))
{%- endmacro %}

{#-
    Standard error of a rate per 1,000 residents under Poisson variation, when the
    true rate is `target_rate` per 1,000: sqrt(1000 * target_rate / population).
-#}
{% macro poisson_rate_se(target_rate, population) -%}
    sqrt(1000.0 * {{ target_rate }} / {{ population }})
{%- endmacro %}

{#-
    A funnel-plot control limit (Spiegelhalter 2005, additive random-effects
    over-dispersion): target +/- z sqrt(se^2 + tau^2), floored at 0.
-#}
{% macro funnel_limit(target_rate, se, tau2, z, sign) -%}
    greatest(0.0, {{ target_rate }} {{ sign }} {{ z }} * sqrt({{ se }} * {{ se }} + {{ tau2 }}))
{%- endmacro %}

{#-
    Standard normal cumulative distribution function (Zelen and Severo 1964,
    Abramowitz and Stegun 26.2.17; absolute error below 7.5e-8).
-#}
{% macro normal_cdf(x) -%}
    (case
        when ({{ x }}) is null then null
        when ({{ x }}) >= 0 then 1 - {{ _normal_tail('(' ~ x ~ ')') }}
        else {{ _normal_tail('(-(' ~ x ~ '))') }}
    end)
{%- endmacro %}

{#- Upper tail of the standard normal for x >= 0 (A&S 26.2.17). -#}
{% macro _normal_tail(x) -%}
    (exp(-{{ x }} * {{ x }} / 2) / sqrt(2 * pi()) * (
        0.319381530 * (1 / (1 + 0.2316419 * {{ x }}))
        - 0.356563782 * pow(1 / (1 + 0.2316419 * {{ x }}), 2)
        + 1.781477937 * pow(1 / (1 + 0.2316419 * {{ x }}), 3)
        - 1.821255978 * pow(1 / (1 + 0.2316419 * {{ x }}), 4)
        + 1.330274429 * pow(1 / (1 + 0.2316419 * {{ x }}), 5)
    ))
{%- endmacro %}

{#-
    One-sided 90 % quantile of Student's t (the upper end of a two-sided 80 %
    interval) for `df` degrees of freedom (rounded up to be conservative between
    tabulated values: df 11-15 use df 11, 16-30 use df 16); the normal quantile beyond 30.
-#}
{% macro t_80(df) -%}
    (case least(greatest({{ df }}, 1), 31)
        when 1 then 3.077684 when 2 then 1.885618 when 3 then 1.637744
        when 4 then 1.533206 when 5 then 1.475884 when 6 then 1.439756
        when 7 then 1.414924 when 8 then 1.396815 when 9 then 1.383029
        when 10 then 1.372184
        else case when {{ df }} <= 15 then 1.363430 when {{ df }} <= 30 then 1.336757
        else 1.281552 end
    end)
{%- endmacro %}

{#- Equality of `columns` between relations `left` and `right`, for a join's on clause. -#}
{% macro columns_equal(left, right, columns) -%}
    {%- for column in columns %}
        {% if not loop.first %}and {% endif %}{{ left }}.{{ column }} = {{ right }}.{{ column }}
    {%- endfor -%}
{%- endmacro %}
