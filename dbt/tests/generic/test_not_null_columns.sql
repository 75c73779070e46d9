{#-
    Fails with one row per listed column that holds NULLs (`column_name`, `null_rows`),
    so a failure names the column and how many rows; no rows when all are filled.

    Why not dbt's per-column `not_null`: that is one node, one scan of the relation and
    one Dagster asset check per column (~200 of them, a quarter of a build's time).
    This checks every required column of a relation in one scan, one node, one check.
    It reads `{{ model }}`, so a test's `where` config and the incremental test window
    (macros/incremental_test_window.sql) apply exactly as they do to any other test.
-#}
{% test not_null_columns(model, column_names) %}

{%- if column_names is string or column_names is mapping or column_names is not iterable
      or column_names | length == 0 -%}
    {%- do exceptions.raise_compiler_error(
        'not_null_columns on ' ~ model ~ ': column_names must be a non-empty list of columns, got '
        ~ column_names
    ) -%}
{%- endif %}

with

null_counts as (

    select
        {%- for column_name in column_names %}
        count(*) filter (where {{ adapter.quote(column_name) }} is null) as {{ adapter.quote('n_' ~ loop.index) }}
        {{- "," if not loop.last }}
        {%- endfor %}

    from {{ model }}

),

{{ failing_columns(column_names, 'null_counts', 'null_rows') }}

{% endtest %}
