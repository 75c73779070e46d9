-- Yahoo-style back-adjustment of as-traded closes for dividends and splits.
-- Each corporate action on ex-date e contributes the factor
--     (1 - dividend_e / close_{e-1}) / split_ratio_e
-- and a day's adjusted close is its close times the product of the factors of
-- every event strictly after it. Set-based: one windowed product per ticker.

with

prices as (

    select
        ticker,
        trade_date,
        close,
        dividends,
        split_ratio

    from {{ ref('stg_raw__prices') }}
    -- a day without a usable close cannot be adjusted or compounded
    where close is not null and close > 0

),

with_previous_close as (

    select
        *,
        lag(close) over (partition by ticker order by trade_date) as previous_close

    from prices

),

event_factors as (

    select
        *,
        -- a dividend is only adjustable against a previous close it does not exceed
        case
            when dividends > 0 and previous_close > dividends
                then 1.0 - dividends / previous_close
            else 1.0
        end / split_ratio as adjustment_factor

    from with_previous_close

),

cumulated as (

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

    from event_factors

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
        close * cumulative_adjustment_factor as adj_close

    from cumulated

)

select * from final
