{% macro adjust_for_corporate_actions(prices) %}
    {#-
        Yahoo-style back-adjustment of the as-traded closes in `prices` (a relation or
        CTE with ticker, trade_date, close, dividends, split_ratio, return_type; other
        columns pass through). Each corporate action on ex-date e contributes the factor
            (1 - dividend_e / (close_{e-1} / split_ratio_e)) / split_ratio_e
        and a day's adjusted close is its close times the product of the factors of
        every event strictly after it. The dividend is divided by the previous close
        in post-split terms: on an ex-date that is also a split day, Yahoo (and the
        sample) quote the dividend per new share, so dividing it by the pre-split close
        would understate it by the split ratio (on other days split_ratio is 1 and this
        is the usual 1 - dividend / previous close). A price instrument (return_type
        'price': a price index, whose level excludes dividends) takes no dividend term,
        so its adjusted close is its level and its returns are price returns. A macro,
        not only a model, so the incremental fct_daily_prices re-adjusts just the
        tickers whose history changed.
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
                -- a dividend (per post-split share) is only adjustable against a previous
                -- close in post-split terms it does not exceed
                case
                    when return_type = 'total'
                        and dividends > 0
                        and previous_close / split_ratio > dividends
                        then 1.0 - dividends * split_ratio / previous_close
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


{% macro instrument_return_type(kind, ticker) -%}
    {#- The return convention of an instrument's closes: 'price' for a price index (kind
        'index' in raw.universe; a symbol missing from the universe counts as one when it
        starts with '^', Yahoo's index prefix), whose level leaves dividends out, so its
        returns are price returns; 'total' for funds and stocks, whose dividends the
        adjustment reinvests. One rule for every model that labels or adjusts closes. -#}
    case
        when {{ kind }} = 'index' or ({{ kind }} is null and starts_with({{ ticker }}, '^'))
            then 'price'
        else 'total'
    end
{%- endmacro %}



{% macro universe_kinds() %}
    {#- Each symbol's universe kind (the latest load's), the input of
        instrument_return_type: a select for a CTE, left-joined on ticker (a symbol
        outside the universe finds none). -#}
    select
        ticker,
        arg_max(kind, loaded_at) as kind

    from {{ ref('stg_raw__universe') }}
    group by ticker
{% endmacro %}
