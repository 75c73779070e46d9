-- Yahoo-style back-adjustment of as-traded closes for dividends and splits (the
-- macro adjust_for_corporate_actions): a day's adjusted close is its close times
-- the product of the factors of every event strictly after it. Set-based: one
-- windowed product per ticker. A price index (return_type 'price') is adjusted for
-- splits only, so its returns stay price returns. loaded_at (when the raw row was
-- loaded) lets the incremental marts find what changed since their last build.

with

universe_kinds as (

    {{ universe_kinds() }}

),

prices as (

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
    -- a day without a usable close cannot be adjusted or compounded
    where {{ has_usable_close('prices.close') }}

),

adjusted as (

    {{ adjust_for_corporate_actions('prices') }}

),

final as (

    select
        ticker,
        trade_date,
        return_type,
        close,
        dividends,
        split_ratio,
        previous_close,
        adjustment_factor,
        cumulative_adjustment_factor,
        adj_close,
        loaded_at

    from adjusted

)

select * from final
