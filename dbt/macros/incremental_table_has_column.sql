{% macro incremental_table_has_column(column) -%}
    {#- Whether the incremental model's existing table already has `column`. A table
        built before the column existed is rebuilt whole on its next build (the model
        compiles its full-refresh select; its strategy then replaces every key it
        emits), instead of mixing rows with and without the column. In a dbt unit test
        `this` is the test's fixture (a name, not a relation): taken to have it. -#}
    {{- return(
        this is string
        or column in (adapter.get_columns_in_relation(this) | map(attribute='name') | list)
    ) -}}
{%- endmacro %}
