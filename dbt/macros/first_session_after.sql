{% macro first_session_after(day_column, alias='next_session') %}
    {#-
        An as-of join clause: `alias`.trade_date is the first trading session
        (int_trading_days) strictly after `day_column`, NULL while the data has none.
        Why strictly after: SEC stamps a filing with its day, not its time, and many
        land after the close; a fund's holdings "as of" a day are its close that day.
        Either is usable from the next session on, never on the day itself.
        Use after a FROM/JOIN: `from x {{ first_session_after('x.filed') }}`.
    -#}
    asof left join (select trade_date from {{ ref('int_trading_days') }}) as {{ alias }}
        on {{ day_column }} < {{ alias }}.trade_date
{% endmacro %}
