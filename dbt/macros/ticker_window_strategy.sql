{% macro get_incremental_ticker_window_sql(arg_dict) %}
    {#-
        Incremental strategy `ticker_window`: delete+insert by date window, per ticker.
        A model that re-emits a ticker's whole history replaces all of it (days the
        source dropped included); one that emits only new days appends them. Other
        tickers are untouched.
    -#}
    {{ delete_insert_from_first_new(arg_dict, 'ticker', 'trade_date') }}
{% endmacro %}


{% macro get_incremental_period_window_sql(arg_dict) %}
    {#-
        Incremental strategy `period_window`: delete+insert by calendar period. A model
        that re-emits every period from the first one whose inputs changed replaces
        exactly those (stocks or periods that dropped out included). Other periods are
        untouched.
    -#}
    {{ delete_insert_from_first_new(arg_dict, 'period_type', 'period_start') }}
{% endmacro %}


{% macro delete_insert_from_first_new(arg_dict, group_column, start_column) %}
    {#-
        For every value of `group_column` in the new rows, delete the target's rows
        from that group's first new `start_column` on, then insert the new rows.
    -#}
    {%- set target = arg_dict["target_relation"] -%}
    {%- set source = arg_dict["temp_relation"] -%}
    {%- set columns = get_quoted_csv(arg_dict["dest_columns"] | map(attribute="name")) -%}

    delete from {{ target }} as target
    using (
        select {{ group_column }}, min({{ start_column }}) as first_new
        from {{ source }}
        group by {{ group_column }}
    ) as windows
    where target.{{ group_column }} = windows.{{ group_column }}
        and target.{{ start_column }} >= windows.first_new;

    insert into {{ target }} ({{ columns }})
    select {{ columns }}
    from {{ source }}
{% endmacro %}
