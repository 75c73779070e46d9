-- The market calendar: every trading day present in prices (any ticker), numbered
-- in order. "h trading days later" everywhere in the marts means h rows further
-- down this calendar. Built from the fct_daily_prices table (not the adjustment
-- view) so the price windows are computed once per build. A table: five models
-- read it, and it is one distinct over the whole price history.

{{ config(materialized='table') }}

with

price_days as (

    select distinct trade_date
    from {{ ref('fct_daily_prices') }}

),

final as (

    select
        trade_date,
        cast(row_number() over (order by trade_date) as integer) as trading_day_number

    from price_days

)

select * from final
