{#-
    Models land in exactly the schema they are configured with (`staging`,
    `intermediate`, `marts`), not dbt's default `<target_schema>_<custom>`:
    the warehouse has one environment per file, so the prefix buys nothing and
    would break the public contract (`marts.fct_daily_prices`).
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
