-- Each basket stock's total return over each calendar month and year, from the
-- close on the period's base date (the last trading day before it) to the close
-- on its last trading day, with its market cap at the start for cap weights. A
-- stock without a close on either day (listed or delisted inside the period) has
-- no row for that period. Equality joins on two days per period: cheap however
-- long the price history.

{{ config(materialized='table') }}

with

periods as (

    select
        period_type,
        period_start,
        period_label,
        base_date,
        end_date,
        is_first_period

    from {{ ref('int_calendar_periods') }}

),

daily as (

    select
        ticker,
        trade_date,
        size_bucket,
        sector,
        is_magnificent_7,
        adj_close,
        weighting_market_cap,
        is_weight_backfilled

    from {{ ref('int_stock_valuation_daily') }}

),

final as (

    select
        periods.period_type,
        periods.period_start,
        periods.period_label,
        periods.base_date,
        periods.end_date,
        periods.is_first_period,
        period_base.ticker,
        period_base.size_bucket,
        period_base.sector,
        period_base.is_magnificent_7,
        period_base.weighting_market_cap as base_market_cap,
        period_base.is_weight_backfilled,
        period_end.adj_close / period_base.adj_close - 1.0 as period_return

    from periods
    inner join daily as period_base
        on period_base.trade_date = periods.base_date
    inner join daily as period_end
        on period_end.ticker = period_base.ticker
        and period_end.trade_date = periods.end_date

)

select * from final
