-- Each basket stock's total return over each calendar month and year, from the
-- close on the period's base date (the last trading day before it) to the close
-- on its last trading day, with its market cap at the start for cap weights. A
-- stock without a close on either day (listed or delisted inside the period) has
-- no row for that period. Equality joins on two days per period.
--
-- Incremental (strategy period_window, see macros/): a build recomputes only the
-- periods (months, years) from the one holding the first day whose inputs may have
-- changed since the last build: the first price day loaded since (fct_daily_prices,
-- which also drives the calendar), and the first day int_stock_valuation_daily
-- recomputed for fundamentals loaded since. A nightly build thus rewrites the current
-- month and year, whatever the length of the history. A re-adjustment (a split or
-- dividend rescaling a ticker's earlier adjusted closes) leaves the ratios of those
-- closes, the period returns, unchanged. `--full-refresh` rebuilds everything; a table
-- built before these columns existed is rebuilt whole on its first incremental build.

{{ config(
    materialized='incremental',
    incremental_strategy='period_window',
    on_schema_change='append_new_columns'
) }}

-- depends_on: {{ ref('fct_daily_prices') }}

{%- set incremental = is_incremental()
    and 'loaded_at' in (adapter.get_columns_in_relation(this) | map(attribute='name') | list) %}

with

{% if incremental %}

held as (

    -- the newest loads the table's periods were computed from
    select
        coalesce(max(loaded_at), timestamp '0001-01-01') as loaded_at,
        coalesce(max(fundamentals_loaded_at), timestamp '0001-01-01') as fundamentals_loaded_at

    from {{ this }}

),

changed as (

    -- the first day whose prices, calendar or fundamentals may differ from the last build
    -- (NULL: nothing did, no period is recomputed)
    select least(
        (
            select min(trade_date)
            from {{ ref('fct_daily_prices') }}
            where loaded_at > (select loaded_at from held)
        ),
        (
            select min(trade_date)
            from {{ ref('int_stock_valuation_daily') }}
            where fundamentals_loaded_at > (select fundamentals_loaded_at from held)
        )
    ) as first_date

),

{% endif %}

periods as (

    select
        period_type,
        period_start,
        period_label,
        base_date,
        end_date,
        is_first_period

    from {{ ref('int_calendar_periods') }}
    {% if incremental %}
    where period_start >= date_trunc(period_type, (select first_date from changed))
    {% endif %}

),

boundary_days as (

    -- the only days the returns read: each period's base and end date
    select base_date as trade_date from periods
    union
    select end_date as trade_date from periods

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
        is_weight_backfilled,
        loaded_at,
        fundamentals_loaded_at

    from {{ ref('int_stock_valuation_daily') }}
    -- filtered before the joins, which would otherwise hash every daily row
    where trade_date in (select trade_date from boundary_days)

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
        period_end.adj_close / period_base.adj_close - 1.0 as period_return,
        greatest(period_base.loaded_at, period_end.loaded_at) as loaded_at,
        greatest(
            period_base.fundamentals_loaded_at, period_end.fundamentals_loaded_at
        ) as fundamentals_loaded_at

    from periods
    inner join daily as period_base
        on period_base.trade_date = periods.base_date
    inner join daily as period_end
        on period_end.ticker = period_base.ticker
        and period_end.trade_date = periods.end_date

)

select * from final
