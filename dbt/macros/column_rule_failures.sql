{#-
    The query of the generic test column_rules (tests/generic/test_column_rules.sql), the
    one place its failure rows are made, one query however many rules:
    - row rules (`checks` items with `fails`, a condition true on a failing row): one scan
      of `model` counting, per check, the rows on which `fails` is true (NULL counts as not
      failing);
    - key rules (items with `key`, a list of columns, and `skip_null_keys`): one GROUP BY
      of `model` per key, counting the rows whose key value occurs more than once; with
      `skip_null_keys` rows with a NULL key part are left out first (dbt's `unique`),
      otherwise NULL key parts group together as in any GROUP BY.
    Then one row per check with any (`column_name`, `rule`, `failing_rows`), in the order
    of `checks`.
-#}
{% macro column_rule_failures(model, checks) %}

{#- Check i's count (i from 1, in the order of checks) is column n_<i> of rule_counts (a
    row check) or of its own CTE key_counts_<i> (a key check). -#}
{%- set row_counts = [] -%}
{%- set key_ctes = [] -%}
{%- for check in checks -%}
    {%- set count_column = adapter.quote('n_' ~ loop.index) -%}
    {%- if 'key' in check -%}
        {%- set key = [] -%}
        {%- for column_name in check['key'] -%}
            {%- do key.append(adapter.quote(column_name)) -%}
        {%- endfor -%}
        {%- do key_ctes.append({
            'name': 'key_counts_' ~ loop.index,
            'count_column': count_column,
            'key': key,
            'skip_null_keys': check['skip_null_keys'],
        }) -%}
    {%- else -%}
        {%- do row_counts.append(
            'count(*) filter (where ' ~ check['fails'] ~ ') as ' ~ count_column
        ) -%}
    {%- endif -%}
{%- endfor %}

with

{%- if row_counts %}

rule_counts as (

    select
        {%- for row_count in row_counts %}
        {{ row_count }}{{ "," if not loop.last }}
        {%- endfor %}

    from {{ model }}

),
{%- endif %}

{%- for cte in key_ctes %}

{{ cte['name'] }} as (

    select cast(coalesce(sum(key_rows), 0) as bigint) as {{ cte['count_column'] }}
    from (
        select count(*) as key_rows
        from {{ model }}
        {%- if cte['skip_null_keys'] %}
        where {{ cte['key'] | join(' is not null and ') }} is not null
        {%- endif %}
        group by {{ cte['key'] | join(', ') }}
    ) as key_groups
    where key_rows > 1

),
{%- endfor %}

per_rule as (

    {%- for check in checks %}
    select
        {{ loop.index }} as check_number,
        '{{ check['column_name'] | replace("'", "''") }}' as column_name,
        '{{ check['rule'] }}' as rule,
        {{ adapter.quote('n_' ~ loop.index) }} as failing_rows
    from {{ 'key_counts_' ~ loop.index if 'key' in check else 'rule_counts' }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

)

select column_name, rule, failing_rows
from per_rule
where failing_rows > 0
order by check_number

{% endmacro %}


{#- Whether `value` is a non-empty list of non-blank strings (column names, conditions). -#}
{% macro is_list_of_text(value) %}
    {{- return(
        value is not string and value is not mapping and value is iterable
        and value | length > 0
        and value | reject('string') | list | length == 0
        and value | map('trim') | reject('equalto', '') | list | length == value | length
    ) -}}
{% endmacro %}
