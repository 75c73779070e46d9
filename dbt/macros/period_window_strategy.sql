{% macro get_incremental_period_window_sql(arg_dict) %}
    {#-
        Incremental strategy `period_window`: delete+insert by calendar period. For
        every period type in the new rows, the target's rows from that type's first new
        period_start on are deleted, then the new rows inserted: a model that re-emits
        every period from the first one whose inputs changed replaces exactly those
        (stocks or periods that dropped out included). Other periods are untouched.
    -#}
    {%- set target = arg_dict["target_relation"] -%}
    {%- set source = arg_dict["temp_relation"] -%}
    {%- set columns = get_quoted_csv(arg_dict["dest_columns"] | map(attribute="name")) -%}

    delete from {{ target }} as target
    using (
        select period_type, min(period_start) as first_period_start
        from {{ source }}
        group by period_type
    ) as windows
    where target.period_type = windows.period_type
        and target.period_start >= windows.first_period_start;

    insert into {{ target }} ({{ columns }})
    select {{ columns }}
    from {{ source }}
{% endmacro %}
