-- Russell's yearly calendar on the trading calendar: one row per year whose rank day
-- and reconstitution are both in the data. The rank day is the last session of May;
-- the reconstitution takes effect after the close of the fourth Friday of June, so the
-- new membership holds from the first session after that Friday (valid_from). A year
-- whose reconstitution session is not in the data yet (a build in early June) has no
-- row: its ranking is not in force.

with

trading_days as (

    select trade_date from {{ ref('int_trading_days') }}

),

rank_days as (

    select
        year(trade_date) as reconstitution_year,
        max(trade_date) as rank_date

    from trading_days
    where month(trade_date) = 5
    group by 1

),

fourth_fridays as (

    -- the first Friday on or after June 1, plus three weeks
    select
        reconstitution_year,
        rank_date,
        make_date(reconstitution_year, 6, 1)
            + cast((5 - isodow(make_date(reconstitution_year, 6, 1)) + 7) % 7 + 21 as integer)
            as fourth_friday

    from rank_days

),

final as (

    select
        fourth_fridays.reconstitution_year,
        fourth_fridays.rank_date,
        fourth_fridays.fourth_friday,
        min(trading_days.trade_date) as effective_date

    from fourth_fridays
    inner join trading_days
        on trading_days.trade_date > fourth_fridays.fourth_friday
        -- the next session, not one after a gap in the data
        and trading_days.trade_date <= fourth_fridays.fourth_friday + 7
    group by 1, 2, 3

)

select * from final
