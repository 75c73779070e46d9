-- Daily adjusted prices and returns per ticker. Returns and the index are rounded
-- (12 and 10 decimals) so results are stable to compare across runs. return_type
-- says what the returns are: 'total' (dividends reinvested) for funds and stocks,
-- 'price' for price indices (^GSPC, ^RUT: the level leaves dividends out, so
-- adj_close is the level, and daily_return and total_return_index are price returns).
--
-- Incremental (strategy ticker_window, see macros/): a nightly build processes only
-- the raw rows loaded since this table's latest loaded_at. Adjusted closes are
-- back-adjusted, so a ticker whose new rows carry a dividend or split, or whose
-- reloaded rows differ from what the table holds (a revised close, a dropped day),
-- gets its whole history re-adjusted; every other ticker only appends its new days,
-- whose adj_close is their close (no later events), the daily return continuing from
-- the last held day and the index from the ticker's first held day, exactly as a
-- full build computes them. `--full-refresh` (Dagster launch config full_refresh)
-- rebuilds everything; so does the first build on a table from before return_type
-- existed (every ticker re-emitted whole, replacing what it held).

{{ config(
    materialized='incremental',
    incremental_strategy='ticker_window',
    on_schema_change='append_new_columns'
) }}

-- depends_on: {{ ref('stg_raw__prices') }}
-- depends_on: {{ ref('stg_raw__universe') }}

{%- set incremental = is_incremental() and incremental_table_has_column('return_type') %}

with

{% if incremental %}

universe_kinds as (

    {{ universe_kinds() }}

),

held as (

    -- what the table holds per ticker: the base of appended returns and index
    select
        ticker,
        max(trade_date) as last_date,
        arg_max(adj_close, trade_date) as last_adj_close,
        arg_min(adj_close, trade_date) as first_adj_close,
        arg_max(return_type, trade_date) as return_type,
        max(loaded_at) as loaded_at

    from {{ this }}
    group by ticker

),

arrived as (

    -- raw rows loaded since the last build
    select
        ticker,
        trade_date,
        close,
        dividends,
        split_ratio

    from {{ ref('stg_raw__prices') }}
    where loaded_at > (select max(loaded_at) from held)

),

held_overlap as (

    -- held rows within the span of a ticker's arrived days: a reload replaced them
    select
        this.ticker,
        this.trade_date,
        this.close,
        this.dividends,
        this.split_ratio

    from {{ this }} as this
    inner join (
        select ticker, min(trade_date) as first_date, max(trade_date) as last_date
        from arrived
        group by ticker
    ) as spans
        on spans.ticker = this.ticker
        and this.trade_date between spans.first_date and spans.last_date

),

rebuilt as (

    -- tickers whose adjusted history changes: new to the table, an event among the
    -- new days, or reloaded days that differ from (or are missing in) what is held
    select distinct coalesce(arrived.ticker, held_overlap.ticker) as ticker

    from arrived
    full outer join held_overlap
        on held_overlap.ticker = arrived.ticker
        and held_overlap.trade_date = arrived.trade_date
    left join held
        on held.ticker = coalesce(arrived.ticker, held_overlap.ticker)

    where held.ticker is null
        or arrived.ticker is null
        or (
            arrived.trade_date > held.last_date
            and (arrived.dividends > 0 or arrived.split_ratio <> 1.0)
        )
        or (
            arrived.trade_date <= held.last_date
            and (
                held_overlap.ticker is null
                or arrived.close is distinct from held_overlap.close
                or arrived.dividends is distinct from held_overlap.dividends
                or arrived.split_ratio is distinct from held_overlap.split_ratio
            )
        )

    union

    -- tickers with a day a quality gate newly held out since the last build (a day
    -- released from quarantine arrives with the release's loaded_at instead)
    select key as ticker
    from {{ source('raw', 'quarantine') }}
    where table_name = 'raw.prices'
        and action = 'quarantine'
        and status = 'open'
        and as_of_load > (select max(loaded_at) from held)

),

rebuilt_prices as (

    select
        prices.ticker,
        prices.trade_date,
        prices.close,
        prices.dividends,
        prices.split_ratio,
        {{ instrument_return_type('universe_kinds.kind', 'prices.ticker') }} as return_type,
        prices.loaded_at

    from {{ ref('stg_raw__prices') }} as prices
    left join universe_kinds on universe_kinds.ticker = prices.ticker
    where prices.ticker in (select ticker from rebuilt)
        and {{ has_usable_close('prices.close') }}

),

rebuilt_adjusted as (

    {{ adjust_for_corporate_actions('rebuilt_prices') }}

),

appended as (

    -- new days of every other ticker: no event after them, so adj_close = close
    select
        prices.ticker,
        prices.trade_date,
        prices.close,
        prices.dividends,
        prices.split_ratio,
        held.return_type,
        prices.loaded_at,
        prices.close as adj_close,
        held.first_adj_close as base_adj_close

    from {{ ref('stg_raw__prices') }} as prices
    inner join held on held.ticker = prices.ticker
    where prices.loaded_at > (select max(loaded_at) from held)
        and prices.trade_date > held.last_date
        and {{ has_usable_close('prices.close') }}
        and prices.ticker not in (select ticker from rebuilt)

),

adjusted as (

    select
        ticker, trade_date, return_type, close, dividends, split_ratio, loaded_at, adj_close,
        null::double as base_adj_close,
        false as is_context

    from rebuilt_adjusted

    union all

    select
        ticker, trade_date, return_type, close, dividends, split_ratio, loaded_at, adj_close,
        base_adj_close,
        false as is_context

    from appended

    union all

    -- the last held day of each appending ticker: the base of its first new return
    select
        held.ticker, held.last_date, null, null, null, null, null, held.last_adj_close,
        held.first_adj_close,
        true as is_context

    from held
    where held.ticker in (select ticker from appended)

),

{% else %}

adjusted as (

    select
        ticker, trade_date, return_type, close, dividends, split_ratio, loaded_at, adj_close,
        null::double as base_adj_close,
        false as is_context

    from {{ ref('int_prices_adjusted') }}

),

{% endif %}

returns as (

    select
        *,
        adj_close
            / lag(adj_close) over (partition by ticker order by trade_date)
            - 1.0 as daily_return,
        -- 100 on the ticker's first day (held, for an appending ticker)
        100.0 * adj_close
            / coalesce(
                base_adj_close,
                first_value(adj_close) over (
                    partition by ticker
                    order by trade_date
                    rows between unbounded preceding and current row
                )
            ) as total_return_index

    from adjusted

),

final as (

    select
        ticker,
        trade_date,
        close,
        dividends,
        split_ratio,
        adj_close,
        round(daily_return, 12) as daily_return,
        round(total_return_index, 10) as total_return_index,
        loaded_at,
        -- last, where on_schema_change puts it on a table from before it existed
        return_type

    from returns
    where not is_context

)

select * from final
