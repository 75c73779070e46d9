-- Every basket stock on every day it traded: market cap and the earnings known
-- that day, the inputs of the bottom-up basket P/E and of cap weights.
--
-- Market cap = as-traded close x shares outstanding in that day's share terms
-- (base shares x the day's cumulative split factor), so a split between a
-- quarter end and the next report changes neither. The fundamentals are those
-- of the latest quarter known on the day (known_from on or before it): nothing
-- reported after the day is used. A state older than var('fundamentals_max_age_days')
-- past its period end (a company that stopped reporting) is not used.
-- Splits and quarter states are first merged into one small per-ticker event
-- table, so the price rows take part in a single as-of join (one sort).
-- A table: the P/E mart aggregates it by day and the period returns read it.
--
-- Incremental (strategy ticker_window): a build recomputes, per ticker, the days from
-- the first one whose inputs may have changed since the last build: the new price
-- days; a quarter loaded since (from two quarters before its period end, whose
-- forward estimate it is; the whole history if it is the ticker's first quarter, which
-- sets early cap weights); the whole history when the adjusted closes held differ from
-- fct_daily_prices' (a split or dividend re-adjusted it). A change of universe
-- membership or sector needs `--full-refresh`.

{{ config(materialized='incremental', incremental_strategy='ticker_window', on_schema_change='fail') }}

-- depends_on: {{ ref('stg_raw__fundamentals') }}

with

{% if is_incremental() %}

held as (

    select
        ticker,
        max(trade_date) as last_date,
        max(fundamentals_loaded_at) as fundamentals_loaded_at

    from {{ this }}
    group by ticker

),

arrived as (

    -- price days loaded since the last build
    select
        ticker,
        min(trade_date) as first_date

    from {{ ref('fct_daily_prices') }}
    where loaded_at > (select max(loaded_at) from {{ this }})
    group by ticker

),

compare_from as (

    -- the held day before each ticker's first new day (or that day)
    select
        arrived.ticker,
        coalesce(max(this.trade_date), min(arrived.first_date)) as from_date

    from arrived
    left join {{ this }} as this
        on this.ticker = arrived.ticker
        and this.trade_date < arrived.first_date
    group by arrived.ticker

),

readjusted as (

    -- held adjusted closes that no longer match fct_daily_prices: history rewritten
    select distinct coalesce(this_side.ticker, fct_side.ticker) as ticker

    from (
        select this.ticker, this.trade_date, this.adj_close
        from {{ this }} as this
        inner join compare_from on compare_from.ticker = this.ticker
        where this.trade_date >= compare_from.from_date
    ) as this_side
    full outer join (
        select fct.ticker, fct.trade_date, fct.adj_close
        from {{ ref('fct_daily_prices') }} as fct
        inner join compare_from on compare_from.ticker = fct.ticker
        inner join held on held.ticker = fct.ticker
        where fct.trade_date >= compare_from.from_date
            and fct.trade_date <= held.last_date
    ) as fct_side
        on fct_side.ticker = this_side.ticker
        and fct_side.trade_date = this_side.trade_date
    where this_side.ticker is null
        or fct_side.ticker is null
        or this_side.adj_close is distinct from fct_side.adj_close

),

new_quarters as (

    -- quarters loaded since the ticker's last build
    select
        fundamentals.ticker,
        case
            when min(fundamentals.period_end) <= min(firsts.first_period_end)
                then date '0001-01-01'
            else min(fundamentals.period_end) - interval 190 day
        end as from_date

    from {{ ref('stg_raw__fundamentals') }} as fundamentals
    inner join (
        select ticker, min(period_end) as first_period_end
        from {{ ref('stg_raw__fundamentals') }}
        group by ticker
    ) as firsts on firsts.ticker = fundamentals.ticker
    left join held on held.ticker = fundamentals.ticker
    where held.fundamentals_loaded_at is null
        or fundamentals.loaded_at > held.fundamentals_loaded_at
    group by fundamentals.ticker

),

recompute as (

    select ticker, min(from_date)::date as from_date
    from (
        select ticker, first_date as from_date from arrived
        union all
        select ticker, date '0001-01-01' from readjusted
        union all
        select ticker, from_date from new_quarters
    ) as starts
    group by ticker

),

{% endif %}

universe as (

    select
        ticker,
        size_bucket,
        sector,
        is_magnificent_7

    from {{ ref('stg_raw__universe') }}
    where kind = 'stock' and size_bucket in ('large', 'small')

),

prices as (

    select
        prices.ticker,
        prices.trade_date,
        prices.close,
        prices.adj_close,
        prices.loaded_at

    from {{ ref('fct_daily_prices') }} as prices
    {% if is_incremental() %}
    inner join recompute
        on recompute.ticker = prices.ticker
        and prices.trade_date >= recompute.from_date
    {% endif %}
    -- basket stocks only; their universe attributes join after the as-of join (a
    -- narrower row to sort)
    where prices.ticker in (select ticker from universe)

),

splits as (

    select
        ticker,
        trade_date,
        cumulative_split_factor

    from {{ ref('int_split_factors') }}

),

quarters as (

    select
        ticker,
        period_end,
        known_from,
        base_shares,
        ttm_earnings_usd,
        forward_earnings_usd

    from {{ ref('int_stock_earnings_quarterly') }}

),

states as (

    -- two quarters known from the same day: the later quarter wins
    select *
    from quarters
    qualify row_number() over (
        partition by ticker, known_from
        order by period_end desc
    ) = 1

),

first_shares as (

    -- the first share count each ticker reported, for cap weights before it
    select
        ticker,
        arg_min(base_shares, known_from) as first_base_shares

    from quarters
    where base_shares is not null
    group by ticker

),

fundamentals_loads as (

    -- when each ticker's fundamentals were last loaded: the next build starts after it
    select
        ticker,
        max(loaded_at) as fundamentals_loaded_at

    from {{ ref('stg_raw__fundamentals') }}
    group by ticker

),

event_dates as (

    -- the days something changes for a ticker: a split, or a new quarter becoming known
    select ticker, trade_date as event_date from splits
    union
    select ticker, known_from as event_date from states

),

events as (

    -- the ticker's split factor and known quarter from each event until the next one:
    -- small (splits + quarters), so the big price table is as-of joined only once
    select
        event_dates.ticker,
        event_dates.event_date,
        coalesce(splits.cumulative_split_factor, 1.0) as split_factor,
        states.period_end as fiscal_period_end,
        states.base_shares,
        states.ttm_earnings_usd,
        states.forward_earnings_usd

    from event_dates
    asof left join splits
        on splits.ticker = event_dates.ticker
        and event_dates.event_date >= splits.trade_date
    asof left join states
        on states.ticker = event_dates.ticker
        and event_dates.event_date >= states.known_from

),

with_state as (

    select
        prices.*,
        coalesce(events.split_factor, 1.0) as split_factor,
        events.fiscal_period_end,
        events.base_shares,
        events.ttm_earnings_usd,
        events.forward_earnings_usd

    from prices
    asof left join events
        on events.ticker = prices.ticker
        and prices.trade_date >= events.event_date

),

with_freshness as (

    select
        *,
        coalesce(
            trade_date - fiscal_period_end <= {{ var('fundamentals_max_age_days') }},
            false
        ) as is_state_fresh

    from with_state

),

fresh as (

    -- a state too old to describe the company any more is not used
    select
        ticker,
        trade_date,
        close,
        adj_close,
        loaded_at,
        split_factor,
        -- cap weights only need a share count: the latest known, however old
        base_shares as latest_base_shares,
        if(is_state_fresh, fiscal_period_end, null) as fiscal_period_end,
        if(is_state_fresh, base_shares, null) as base_shares,
        if(is_state_fresh, ttm_earnings_usd, null) as ttm_earnings_usd,
        if(is_state_fresh, forward_earnings_usd, null) as forward_earnings_usd

    from with_freshness

),

final as (

    select
        fresh.ticker,
        fresh.trade_date,
        universe.size_bucket,
        universe.sector,
        universe.is_magnificent_7,
        fresh.close,
        fresh.adj_close,
        fresh.loaded_at,
        fundamentals_loads.fundamentals_loaded_at,
        fresh.split_factor,
        fresh.fiscal_period_end,
        fresh.base_shares * fresh.split_factor as shares_outstanding,
        fresh.close * fresh.base_shares * fresh.split_factor as market_cap,
        fresh.ttm_earnings_usd,
        fresh.forward_earnings_usd,
        fresh.close
            * coalesce(fresh.latest_base_shares, first_shares.first_base_shares)
            * fresh.split_factor as weighting_market_cap,
        fresh.latest_base_shares is null
            and first_shares.first_base_shares is not null as is_weight_backfilled

    from fresh
    inner join universe on universe.ticker = fresh.ticker
    left join first_shares on first_shares.ticker = fresh.ticker
    left join fundamentals_loads on fundamentals_loads.ticker = fresh.ticker

)

select * from final
