-- Relative performance of each tracked pair: the ratio of the two legs' total
-- return indices on the days both traded, its returns over trailing windows of
-- trading days (var `relative_return_lookbacks`: 21 = the ratio on the last common
-- day at least 21 trading days back, so a day one leg lacks, e.g. quarantined,
-- moves no other window), year to date, and its
-- drawdown from the running peak. Also the daily spread (numerator's daily
-- return minus the denominator's) and its rolling correlation with daily changes
-- in the 2-year Treasury yield over var('rate_correlation_window') (63) rows.

{%- set lookbacks = var('relative_return_lookbacks') %}
{%- set horizons = ['1m', '3m', '6m', '12m'] %}
{%- set correlation_window = var('rate_correlation_window') %}

with

pairs as (

    select * from {{ ref('relative_pairs') }}

),

prices as (

    select
        ticker,
        trade_date,
        total_return_index

    from {{ ref('fct_daily_prices') }}
    -- only the pairs' legs (a dozen funds), not every stock's history
    where ticker in (select numerator from pairs union all select denominator from pairs)

),

trading_days as (

    -- the days any leg traded, numbered: lookbacks count these, not a pair's rows
    select
        trade_date,
        row_number() over (order by trade_date) as day_number

    from (select distinct trade_date from prices)

),

two_year_yields as (

    -- forward-filled per calendar day, so every trading day reads the latest DGS2
    select
        rate_date,
        dgs2

    from {{ ref('int_rates_pivoted') }}

),

pair_days as (

    select
        pairs.pair,
        numerator_prices.trade_date,
        pairs.numerator,
        pairs.denominator,
        numerator_prices.total_return_index as numerator_index,
        denominator_prices.total_return_index as denominator_index,
        numerator_prices.total_return_index
            / denominator_prices.total_return_index as ratio,
        trading_days.day_number

    from pairs
    inner join prices as numerator_prices
        on numerator_prices.ticker = pairs.numerator
    inner join prices as denominator_prices
        on denominator_prices.ticker = pairs.denominator
        and denominator_prices.trade_date = numerator_prices.trade_date
    inner join trading_days
        on trading_days.trade_date = numerator_prices.trade_date

),

daily_moves as (

    -- since the pair's previous common trading day
    select
        pair_days.*,
        (numerator_index / lag(numerator_index) over pair_history)
            - (denominator_index / lag(denominator_index) over pair_history) as spread_daily_return,
        two_year_yields.dgs2
            - lag(two_year_yields.dgs2) over pair_history as dgs2_change

    from pair_days
    left join two_year_yields on two_year_yields.rate_date = pair_days.trade_date
    window pair_history as (partition by pair_days.pair order by pair_days.trade_date)

),

year_end_ratios as (

    -- the ratio on each pair's last common day of each year
    select
        pair,
        year(trade_date) as ratio_year,
        arg_max(ratio, trade_date) as year_end_ratio

    from pair_days
    group by pair, year(trade_date)

),

measured as (

    select
        pair_days.*,
        case
            when count(pair_days.spread_daily_return * pair_days.dgs2_change) over rate_window
                = {{ correlation_window }}
                then corr(pair_days.spread_daily_return, pair_days.dgs2_change) over rate_window
        end as spread_dgs2_correlation,
        {%- for horizon in horizons %}
        pair_days.ratio / base_{{ horizon }}.ratio - 1.0 as rel_return_{{ horizon }},
        {%- endfor %}
        pair_days.ratio / previous_year_end.year_end_ratio - 1.0 as rel_return_ytd,
        pair_days.ratio
            / max(pair_days.ratio) over (
                partition by pair_days.pair
                order by pair_days.trade_date
                rows between unbounded preceding and current row
            )
            - 1.0 as ratio_drawdown

    from daily_moves as pair_days
    {%- for horizon in horizons %}
    asof left join pair_days as base_{{ horizon }}
        on base_{{ horizon }}.pair = pair_days.pair
        and base_{{ horizon }}.day_number <= pair_days.day_number - {{ lookbacks[horizon] }}
    {%- endfor %}
    left join year_end_ratios as previous_year_end
        on previous_year_end.pair = pair_days.pair
        and previous_year_end.ratio_year = year(pair_days.trade_date) - 1
    window
        rate_window as (
            partition by pair_days.pair
            order by pair_days.trade_date
            rows between {{ correlation_window - 1 }} preceding and current row
        )

),

final as (

    select
        pair,
        trade_date,
        numerator,
        denominator,
        numerator_index,
        denominator_index,
        round(ratio, 12) as ratio,
        {%- for horizon in horizons %}
        round(rel_return_{{ horizon }}, 12) as rel_return_{{ horizon }},
        {%- endfor %}
        round(rel_return_ytd, 12) as rel_return_ytd,
        -- rounding may not lift a value at its peak above zero
        least(round(ratio_drawdown, 12), 0.0) as ratio_drawdown,
        round(spread_daily_return, 12) as spread_daily_return,
        round(dgs2_change, 6) as dgs2_change,
        -- a window where either series never moves has no correlation (NaN)
        case
            when not isnan(spread_dgs2_correlation) then round(spread_dgs2_correlation, 12)
        end as spread_dgs2_corr_63d

    from measured

)

select * from final
