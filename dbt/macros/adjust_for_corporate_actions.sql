{% macro adjust_for_corporate_actions(prices) %}
    {#-
        Yahoo-style back-adjustment of the as-traded closes in `prices` (a relation or
        CTE with ticker, trade_date, close, dividends, split_ratio; other columns pass
        through). Each corporate action on ex-date e contributes the factor
            (1 - dividend_e / close_{e-1}) / split_ratio_e
        and a day's adjusted close is its close times the product of the factors of
        every event strictly after it. A macro, not only a model, so the incremental
        fct_daily_prices re-adjusts just the tickers whose history changed.
    -#}
    select
        *,
        close * cumulative_adjustment_factor as adj_close

    from (

        select
            *,
            -- product of the factors of all later events; 1 on the last day
            coalesce(
                product(adjustment_factor) over (
                    partition by ticker
                    order by trade_date
                    rows between 1 following and unbounded following
                ),
                1.0
            ) as cumulative_adjustment_factor

        from (

            select
                *,
                -- a dividend is only adjustable against a previous close it does not exceed
                case
                    when dividends > 0 and previous_close > dividends
                        then 1.0 - dividends / previous_close
                    else 1.0
                end / split_ratio as adjustment_factor

            from (

                select
                    *,
                    lag(close) over (partition by ticker order by trade_date) as previous_close

                from {{ prices }}

            ) as with_previous_close

        ) as event_factors

    ) as cumulated
{% endmacro %}


{% macro has_usable_close(close='close') -%}
    {#- A row adjust_for_corporate_actions can use: a day without a positive close can be
        neither back-adjusted (it would divide by it) nor compounded. One rule for every
        model that feeds the macro. -#}
    {{ close }} is not null and {{ close }} > 0
{%- endmacro %}
