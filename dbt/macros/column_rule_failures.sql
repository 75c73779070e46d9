{#-
    The query of the generic test column_rules (tests/generic/test_column_rules.sql), the
    one place its failure rows are made: one scan of `model` counting, per check, the rows
    on which its `fails` condition is true (NULL counts as not failing), then one row per
    check with any (`column_name`, `rule`, `failing_rows`), in the order of `checks`.
-#}
{% macro column_rule_failures(model, checks) %}

with

rule_counts as (

    select
        {%- for check in checks %}
        count(*) filter (where {{ check['fails'] }}) as {{ adapter.quote('n_' ~ loop.index) }}
        {{- "," if not loop.last }}
        {%- endfor %}

    from {{ model }}

),

per_rule as (

    {%- for check in checks %}
    select
        '{{ check['column_name'] | replace("'", "''") }}' as column_name,
        '{{ check['rule'] }}' as rule,
        {{ adapter.quote('n_' ~ loop.index) }} as failing_rows
    from rule_counts
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

)

select column_name, rule, failing_rows
from per_rule
where failing_rows > 0

{% endmacro %}
