-- Yahoo-style back-adjustment of as-traded closes for dividends and splits (the
-- macro adjust_for_corporate_actions): a day's adjusted close is its close times
-- the product of the factors of every event strictly after it. Set-based: one
-- windowed product per ticker. loaded_at (when the raw row was loaded) lets the
-- incremental marts find what changed since their last build.

with

prices as (

    select
        ticker,
        trade_date,
        close,
        dividends,
        split_ratio,
        loaded_at

    from {{ ref('stg_raw__prices') }}
    -- a day without a usable close cannot be adjusted or compounded
    where {{ has_usable_close() }}

),

adjusted as (

    {{ adjust_for_corporate_actions('prices') }}

),

final as (

    select
        ticker,
        trade_date,
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
