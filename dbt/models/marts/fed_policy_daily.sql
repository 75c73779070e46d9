-- The Fed policy backdrop for every calendar day: target range, effective rate,
-- curve slope, the latest target change and the regime it puts us in. A move
-- counts from its FOMC decision date; a regime reverts to 'hold' once the last
-- move is more than var('hold_after_days') days old.

with

rates as (

    select * from {{ ref('int_rates_pivoted') }}

),

moves as (

    select
        decision_date,
        move_bp

    from {{ ref('int_fomc_moves') }}

),

rates_with_moves as (

    select
        rates.*,
        moves.decision_date as move_date,
        moves.move_bp

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

final as (

    select
        rate_date as calendar_date,
        target_lower,
        target_upper,
        (target_lower + target_upper) / 2.0 as target_mid,
        effective_rate,
        dgs2,
        dgs10,
        round(coalesce(dgs10 - dgs2, t10y2y), 6) as slope_2s10s,
        last_move_date,
        last_move_bp,
        cast(rate_date - last_move_date as integer) as days_since_last_move,
        case
            when last_move_date is null
                or rate_date - last_move_date > {{ var('hold_after_days') }}
                then 'hold'
            when last_move_bp < 0 then 'easing'
            else 'tightening'
        end as regime

    from latest_move

)

select * from final
