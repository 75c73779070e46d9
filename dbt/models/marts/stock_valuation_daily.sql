-- Every basket stock on every day it traded: market cap, trailing-twelve-month
-- earnings and trailing P/E as they could be known that day, with the source of
-- each figure.
--
-- Earnings. A company with SEC EDGAR net income facts uses them, and only them:
-- the sum of its latest four quarters known that day, each at its first-reported
-- value, known from the first session after the filing that made it public
-- (int_edgar_ttm_earnings). A company without EDGAR facts falls back to
-- raw.fundamentals (the sample's or Yahoo's EPS x shares, int_stock_valuation_daily);
-- the two are never spliced for one company, since Yahoo's adjusted, calendarised
-- EPS is not GAAP net income.
--
-- Shares. Likewise per company: EDGAR's latest cover-page count known that day
-- (the one with the latest as_of date), else raw.fundamentals'. A count is in the
-- share terms of its as_of date and the close is as traded, so the count is
-- restated to the day's terms: shares x split factor(day) / split factor(as_of).
--
-- A figure whose period (TTM: the last quarter's end; shares: the cover date) is
-- older than var('fundamentals_max_age_days') on the day is not used (a company
-- that stopped filing), as in int_stock_valuation_daily.
--
-- trailing_pe = market_cap / ttm_earnings_usd, NULL when the earnings are zero or
-- negative: a loss-maker has no meaningful P/E of its own (pe_discount's basket
-- P/E still counts its loss in the basket's earnings sum).
--
-- Incremental (strategy ticker_window): a build recomputes, per ticker, the days from
-- the first one whose inputs may have changed since the last build: the first day
-- int_stock_valuation_daily rewrote (a price day loaded since, by loaded_at; the days
-- a quarter of fundamentals loaded since changed, by fundamentals_loaded_at); the filed
-- date of the earliest EDGAR fact loaded since (by edgar_loaded_at: a filing changes
-- the company's figures from the session after it on); the whole history for a ticker
-- new to the model, or whose earnings or shares switched source (its first EDGAR facts
-- of the kind: every day's figure changes). A change of universe membership or sector
-- needs `--full-refresh`, as upstream. A table from before this model was incremental
-- gets the load-time columns added (last, as in the select) and is rebuilt whole once.

{{ config(materialized='incremental', incremental_strategy='ticker_window', on_schema_change='append_new_columns') }}

{%- set max_age = var('fundamentals_max_age_days') %}

{#- a table built before this model was incremental lacks its load-time columns: rebuilt
    whole once (as fct_daily_prices does), then incremental -#}
{%- set incremental = is_incremental() and incremental_table_has_column('edgar_loaded_at') %}

with

edgar_earnings_tickers as (

    select distinct ticker from {{ ref('int_edgar_net_income_quarterly') }}

),

edgar_shares_tickers as (

    select distinct ticker from {{ ref('int_edgar_shares_outstanding') }}

),

{% if incremental %}

held as (

    -- per ticker, what the last build saw
    select
        ticker,
        max(fundamentals_loaded_at) as fundamentals_loaded_at,
        bool_or(uses_edgar_earnings) as uses_edgar_earnings,
        bool_or(uses_edgar_shares) as uses_edgar_shares

    from {{ this }}
    group by ticker

),

last_build as (

    select
        coalesce(max(loaded_at), '-infinity'::timestamp) as prices_loaded_at,
        coalesce(max(edgar_loaded_at), '-infinity'::timestamp) as edgar_loaded_at

    from {{ this }}

),

rewritten as (

    -- int_stock_valuation_daily's days written since: new or reloaded price days, the
    -- days a quarter loaded since changed; a ticker new to this model from its first day
    select
        valuations.ticker,
        min(valuations.trade_date) as from_date

    from {{ ref('int_stock_valuation_daily') }} as valuations
    left join held on held.ticker = valuations.ticker
    where held.ticker is null
        or valuations.loaded_at > (select prices_loaded_at from last_build)
        or valuations.fundamentals_loaded_at
            > coalesce(held.fundamentals_loaded_at, '-infinity'::timestamp)
    group by valuations.ticker

),

filed_since as (

    -- EDGAR facts loaded since: first-reported quarters, TTM sums and cover counts
    -- change from the first session after their filing on, never before it
    select
        companies.ticker,
        min(facts.filed) as from_date

    from {{ ref('stg_edgar__facts') }} as facts
    -- the companies with figures here (as their figures name them); facts of another
    -- company change nothing
    inner join (
        select distinct cik, ticker from {{ ref('int_edgar_net_income_quarterly') }}
        union
        select distinct cik, ticker from {{ ref('int_edgar_shares_outstanding') }}
    ) as companies on companies.cik = facts.cik
    where facts.loaded_at > (select edgar_loaded_at from last_build)
    group by companies.ticker

),

switched as (

    -- a ticker whose earnings or shares now come from the other source (its first
    -- EDGAR facts of the kind, or its company's facts now under another symbol)
    select
        held.ticker,
        date '0001-01-01' as from_date

    from held
    left join edgar_earnings_tickers on edgar_earnings_tickers.ticker = held.ticker
    left join edgar_shares_tickers on edgar_shares_tickers.ticker = held.ticker
    where held.uses_edgar_earnings is distinct from (edgar_earnings_tickers.ticker is not null)
        or held.uses_edgar_shares is distinct from (edgar_shares_tickers.ticker is not null)

),

recompute as (

    select ticker, min(from_date)::date as from_date
    from (
        select ticker, from_date from rewritten
        union all
        select ticker, from_date from filed_since
        union all
        select ticker, from_date from switched
    ) as starts
    group by ticker

),

{% endif %}

days as (

    select
        valuations.ticker,
        valuations.trade_date,
        valuations.size_bucket,
        valuations.is_magnificent_7,
        valuations.close,
        valuations.split_factor,
        valuations.fiscal_period_end as fallback_period_end,
        valuations.shares_outstanding as fallback_shares,
        valuations.market_cap as fallback_market_cap,
        valuations.ttm_earnings_usd as fallback_ttm_earnings_usd,
        valuations.loaded_at,
        valuations.fundamentals_loaded_at

    from {{ ref('int_stock_valuation_daily') }} as valuations
    {% if incremental %}
    inner join recompute
        on recompute.ticker = valuations.ticker
        and valuations.trade_date >= recompute.from_date
    {% endif %}

),

edgar_loads as (

    -- the latest EDGAR load this build sees: the next build looks for facts after it
    select max(loaded_at) as edgar_loaded_at

    from {{ ref('stg_edgar__facts') }}

),

fallback_known as (

    select
        ticker,
        period_end,
        known_from

    from {{ ref('int_stock_earnings_quarterly') }}

),

splits as (

    select
        ticker,
        trade_date,
        cumulative_split_factor

    from {{ ref('int_split_factors') }}

),

ttm_states as (

    select
        ticker,
        state_date,
        last_period_end,
        earnings_known_since,
        ttm_earnings_usd

    from {{ ref('int_edgar_ttm_earnings') }}

),

shares_known as (

    select
        ticker,
        as_of,
        shares,
        known_from,
        -- the latest cover date known before this count became known
        max(as_of) over (
            partition by ticker
            order by known_from, as_of
            rows between unbounded preceding and 1 preceding
        ) as latest_as_of_before

    from {{ ref('int_edgar_shares_outstanding') }}
    where known_from is not null

),

shares_states as (

    -- a count that becomes known after a newer one (a late amendment) changes nothing;
    -- of counts known from the same session, the latest cover date wins
    select
        shares_known.ticker,
        shares_known.as_of,
        shares_known.known_from,
        -- in split-invariant base terms (the ticker's pre-split terms)
        shares_known.shares / coalesce(splits.cumulative_split_factor, 1.0) as base_shares

    from shares_known
    asof left join splits
        on splits.ticker = shares_known.ticker
        and shares_known.as_of >= splits.trade_date
    where shares_known.latest_as_of_before is null
        or shares_known.as_of > shares_known.latest_as_of_before
    qualify row_number() over (
        partition by shares_known.ticker, shares_known.known_from
        order by shares_known.as_of desc
    ) = 1

),

event_dates as (

    select ticker, state_date as event_date from ttm_states
    union
    select ticker, known_from as event_date from shares_states

),

events as (

    -- each company's EDGAR state from each change until the next: small, so the
    -- price days take part in a single as-of join
    select
        event_dates.ticker,
        event_dates.event_date,
        ttm_states.last_period_end,
        ttm_states.earnings_known_since,
        ttm_states.ttm_earnings_usd,
        shares_states.as_of as shares_as_of,
        shares_states.base_shares

    from event_dates
    asof left join ttm_states
        on ttm_states.ticker = event_dates.ticker
        and event_dates.event_date >= ttm_states.state_date
    asof left join shares_states
        on shares_states.ticker = event_dates.ticker
        and event_dates.event_date >= shares_states.known_from

),

with_edgar as (

    select
        days.*,
        events.last_period_end as edgar_period_end,
        events.earnings_known_since as edgar_known_since,
        if(
            days.trade_date - events.last_period_end <= {{ max_age }},
            events.ttm_earnings_usd,
            null
        ) as edgar_ttm_earnings_usd,
        events.shares_as_of as edgar_shares_as_of,
        if(
            days.trade_date - events.shares_as_of <= {{ max_age }},
            events.base_shares * days.split_factor,
            null
        ) as edgar_shares

    from days
    asof left join events
        on events.ticker = days.ticker
        and days.trade_date >= events.event_date

),

chosen as (

    select
        with_edgar.*,
        edgar_earnings_tickers.ticker is not null as uses_edgar_earnings,
        edgar_shares_tickers.ticker is not null as uses_edgar_shares,
        fallback_known.known_from as fallback_known_since

    from with_edgar
    left join edgar_earnings_tickers on edgar_earnings_tickers.ticker = with_edgar.ticker
    left join edgar_shares_tickers on edgar_shares_tickers.ticker = with_edgar.ticker
    left join fallback_known
        on fallback_known.ticker = with_edgar.ticker
        and fallback_known.period_end = with_edgar.fallback_period_end

),

figures as (

    select
        ticker,
        trade_date,
        size_bucket,
        is_magnificent_7,
        close,
        split_factor,
        if(uses_edgar_shares, edgar_shares, fallback_shares) as shares_outstanding,
        if(uses_edgar_shares, edgar_shares_as_of, fallback_period_end) as shares_as_of,
        if(uses_edgar_shares, 'edgar', 'fundamentals') as shares_from,
        if(uses_edgar_shares, close * edgar_shares, fallback_market_cap) as market_cap,
        if(uses_edgar_earnings, edgar_ttm_earnings_usd, fallback_ttm_earnings_usd)
            as ttm_earnings_usd,
        if(uses_edgar_earnings, edgar_period_end, fallback_period_end) as earnings_period_end,
        if(uses_edgar_earnings, edgar_known_since, fallback_known_since)
            as earnings_known_since,
        if(uses_edgar_earnings, 'edgar', 'fundamentals') as earnings_from,
        uses_edgar_earnings,
        uses_edgar_shares,
        loaded_at,
        fundamentals_loaded_at

    from chosen

),

final as (

    select
        ticker,
        trade_date,
        size_bucket,
        is_magnificent_7,
        close,
        split_factor,
        shares_outstanding,
        if(shares_outstanding is null, null, shares_as_of) as shares_as_of,
        if(shares_outstanding is null, null, shares_from) as shares_source,
        market_cap,
        if(market_cap is null, null, shares_from) as market_cap_source,
        ttm_earnings_usd,
        if(ttm_earnings_usd is null, null, earnings_period_end) as earnings_period_end,
        if(ttm_earnings_usd is null, null, earnings_known_since) as earnings_known_since,
        if(ttm_earnings_usd is null, null, earnings_from) as earnings_source,
        case
            when ttm_earnings_usd > 0 then market_cap / ttm_earnings_usd
        end as trailing_pe,
        case
            when market_cap is null or ttm_earnings_usd is null then null
            when shares_from = earnings_from then shares_from
            else shares_from || '+' || earnings_from
        end as trailing_pe_source,
        uses_edgar_earnings,
        uses_edgar_shares,
        loaded_at,
        fundamentals_loaded_at,
        (select edgar_loaded_at from edgar_loads) as edgar_loaded_at

    from figures

)

select * from final
