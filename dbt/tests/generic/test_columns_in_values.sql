{#-
    Fails with one row per listed column holding a value outside its list
    (`column_name`, `violating_rows`), so a failure names the column and how many rows;
    no rows when every value is accepted.

    `columns` maps each column to its accepted values. Compared as dbt's built-in
    `accepted_values` does by default (quote: true): each value is a string literal, so
    `[large, small]` reads `not in ('large', 'small')`. NULLs pass: not_null_columns says
    which columns must be filled.

    Why not one per-column `accepted_values`: that is one node, one scan of the relation
    and one Dagster asset check per column. This checks every listed column of a relation
    in one scan, one node, one check. It reads `{{ model }}`, so a test's `where` config
    and the incremental test window (macros/incremental_test_window.sql) apply exactly as
    they do to any other test.
-#}
{% test columns_in_values(model, columns) %}

{%- if columns is not mapping or columns | length == 0 -%}
    {%- do exceptions.raise_compiler_error(
        'columns_in_values on ' ~ model ~ ': columns must be a non-empty mapping of column -> '
        ~ 'list of accepted values, got ' ~ columns
    ) -%}
{%- endif -%}
{%- for column_name, values in columns.items() -%}
    {%- if values is string or values is mapping or values is not iterable
          or values | length == 0 -%}
        {%- do exceptions.raise_compiler_error(
            'columns_in_values on ' ~ model ~ ': column ' ~ column_name
            ~ ' needs a non-empty list of accepted values, got ' ~ values
        ) -%}
    {%- endif -%}
{%- endfor %}

with

value_counts as (

    select
        {%- for column_name, values in columns.items() %}
        count(*) filter (
            where {{ adapter.quote(column_name) }} not in (
                {%- for value in values -%}
                '{{ value | string | replace("'", "''") }}'{{ ", " if not loop.last }}
                {%- endfor -%}
            )
        ) as {{ adapter.quote('n_' ~ loop.index) }}
        {{- "," if not loop.last }}
        {%- endfor %}

    from {{ model }}

),

{{ failing_columns(columns, 'value_counts', 'violating_rows') }}

{% endtest %}
