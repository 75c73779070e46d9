{#-
    Fails with one row per listed column holding values outside its bounds
    (`column_name`, `violating_rows`), so a failure names the column and how many rows;
    no rows when every value is in range.

    `columns` maps each column to its bounds: `{min_value: .., max_value: .., inclusive: ..}`,
    either bound optional (at least one given), `inclusive: false` making both strict
    (default true). NULLs pass: not_null_columns says which columns must be filled.

    Why not one per-column `accepted_range`: that is one node, one scan of the relation and
    one Dagster asset check per column. This checks every bounded column of a relation in
    one scan, one node, one check. It reads `{{ model }}`, so a test's `where` config and
    the incremental test window (macros/incremental_test_window.sql) apply exactly as they
    do to any other test.
-#}
{% test columns_in_range(model, columns) %}

{%- set rule_keys = ['min_value', 'max_value', 'inclusive'] -%}
{%- if columns is not mapping or columns | length == 0 -%}
    {%- do exceptions.raise_compiler_error(
        'columns_in_range on ' ~ model ~ ': columns must be a non-empty mapping of column -> '
        ~ '{min_value, max_value, inclusive}, got ' ~ columns
    ) -%}
{%- endif -%}
{%- for column_name, rule in columns.items() -%}
    {%- if rule is not mapping
          or rule.keys() | reject('in', rule_keys) | list | length > 0
          or (rule.get('min_value') is none and rule.get('max_value') is none)
          or rule.get('inclusive', true) is not boolean -%}
        {%- do exceptions.raise_compiler_error(
            'columns_in_range on ' ~ model ~ ': column ' ~ column_name ~ ' needs min_value and/or '
            ~ 'max_value (and optionally inclusive: true/false), nothing else; got ' ~ rule
        ) -%}
    {%- endif -%}
{%- endfor %}

with

range_counts as (

    select
        {%- for column_name, rule in columns.items() %}
        {%- set inclusive = rule.get('inclusive', true) %}
        count(*) filter (
            where false
            {%- if rule.get('min_value') is not none %}
            or {{ adapter.quote(column_name) }} {{ '<' if inclusive else '<=' }} {{ rule['min_value'] }}
            {%- endif %}
            {%- if rule.get('max_value') is not none %}
            or {{ adapter.quote(column_name) }} {{ '>' if inclusive else '>=' }} {{ rule['max_value'] }}
            {%- endif %}
        ) as {{ adapter.quote('n_' ~ loop.index) }}
        {{- "," if not loop.last }}
        {%- endfor %}

    from {{ model }}

),

{{ failing_columns(columns, 'range_counts', 'violating_rows') }}

{% endtest %}
