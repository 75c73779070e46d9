-- The Fed policy backdrop for every calendar day: target range, effective rate,
-- curve slope and whether it is steepening, the latest target change, the cycle
-- it belongs to and the regime it puts us in. A move counts from its FOMC
-- decision date, the target range too: from the decision day on, the range is the
-- one decided (FRED's range series only show it the day after), so a row never
-- pairs the old range with the new regime. Before the first move in the data the
-- regime is 'unknown' (when the Fed last moved is not loaded); after it, a regime
-- reverts to 'hold' once the last move is more than var('hold_after_days') days old. The slope's change is measured over
-- var('steepening_lookback_trading_days') (63) trading days of the market
-- calendar (int_trading_days); a non-trading day reads the last trading day's.

with

rates as (

    select * from {{ ref('int_rates_pivoted') }}

),

moves as (

    select
        decision_date,
        change_bp,
        new_target_lower,
        new_target_upper,
        cycle_id,
        cycle_type,
        cycle_start_date

    from {{ ref('fomc_decisions') }}

),

trading_days as (

    select trade_date from {{ ref('int_trading_days') }}

),

rates_with_moves as (

    select
        rates.*,
        round(coalesce(rates.dgs10 - rates.dgs2, rates.t10y2y), 6) as slope_2s10s,
        moves.decision_date as move_date,
        moves.change_bp as move_bp

    from rates
    left join moves on moves.decision_date = rates.rate_date

),

latest_move as (

    select
        *,
        last_value(move_date ignore nulls) over days_so_far as last_move_date,
        last_value(move_bp ignore nulls) over days_so_far as last_move_bp

    from rates_with_moves
    window days_so_far as (
        order by rate_date
        rows between unbounded preceding and current row
    )

),

slope_on_trading_days as (

    select
        trading_days.trade_date,
        latest_move.slope_2s10s
            - lag(latest_move.slope_2s10s, {{ var('steepening_lookback_trading_days') }})
                over (order by trading_days.trade_date) as slope_change

    from trading_days
    inner join latest_move on latest_move.rate_date = trading_days.trade_date

),

with_trading_day as (

    select
        latest_move.*,
        last_value(slope_on_trading_days.trade_date ignore nulls) over days_so_far
            as last_trading_date

    from latest_move
    left join slope_on_trading_days
        on slope_on_trading_days.trade_date = latest_move.rate_date
    window days_so_far as (
        order by latest_move.rate_date
        rows between unbounded preceding and current row
    )

),

final as (

    select
        with_trading_day.rate_date as calendar_date,
        -- the decided range from the decision day on; FRED's before the first move
        coalesce(last_move.new_target_lower, with_trading_day.target_lower) as target_lower,
        coalesce(last_move.new_target_upper, with_trading_day.target_upper) as target_upper,
        (
            coalesce(last_move.new_target_lower, with_trading_day.target_lower)
            + coalesce(last_move.new_target_upper, with_trading_day.target_upper)
        ) / 2.0 as target_mid,
        with_trading_day.effective_rate,
        with_trading_day.dgs2,
        with_trading_day.dgs10,
        with_trading_day.slope_2s10s,
        with_trading_day.last_trading_date,
        round(steepening.slope_change, 6) as slope_2s10s_change_63d,
        round(steepening.slope_change, 6) > 0 as is_steepening,
        with_trading_day.last_move_date,
        with_trading_day.last_move_bp,
        cast(with_trading_day.rate_date - with_trading_day.last_move_date as integer)
            as days_since_last_move,
        case
            when with_trading_day.last_move_date is null then 'unknown'
            when with_trading_day.rate_date - with_trading_day.last_move_date
                    > {{ var('hold_after_days') }}
                then 'hold'
            when with_trading_day.last_move_bp < 0 then 'easing'
            else 'tightening'
        end as regime,
        last_move.cycle_id,
        last_move.cycle_type,
        case when last_move.cycle_type = 'easing' then last_move.cycle_start_date end
            as cycle_first_cut_date,
        case
            when last_move.cycle_type = 'easing'
                then cast(with_trading_day.rate_date - last_move.cycle_start_date as integer)
        end as days_since_first_cut

    from with_trading_day
    left join moves as last_move
        on last_move.decision_date = with_trading_day.last_move_date
    left join slope_on_trading_days as steepening
        on steepening.trade_date = with_trading_day.last_trading_date

)

select * from final
