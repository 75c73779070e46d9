{% macro get_incremental_ticker_window_sql(arg_dict) %}
    {#-
        Incremental strategy `ticker_window`: delete+insert by date window, per ticker.
        For every ticker in the new rows, the target's rows from that ticker's first
        new date on are deleted, then the new rows inserted. A model that re-emits a
        ticker's whole history replaces all of it (days the source dropped included);
        one that emits only new days appends them. Other tickers are untouched.
    -#}
    {%- set target = arg_dict["target_relation"] -%}
    {%- set source = arg_dict["temp_relation"] -%}
    {%- set columns = get_quoted_csv(arg_dict["dest_columns"] | map(attribute="name")) -%}

    delete from {{ target }} as target
    using (
        select ticker, min(trade_date) as first_date
        from {{ source }}
        group by ticker
    ) as windows
    where target.ticker = windows.ticker
        and target.trade_date >= windows.first_date;

    insert into {{ target }} ({{ columns }})
    select {{ columns }}
    from {{ source }}
{% endmacro %}
