-- Calendar months and years as measured on the trading calendar: the close a
-- period's return starts from (base_date: the last trading day before the period)
-- and the close it ends on (end_date: the period's last trading day). The first
-- period in the data has no earlier close, so it is measured from its own first
-- trading day and flagged.

with

trading_days as (

    select trade_date from {{ ref('int_trading_days') }}

),

periods as (

    select
        'month' as period_type,
        cast(date_trunc('month', trade_date) as date) as period_start,
        min(trade_date) as first_trading_date,
        max(trade_date) as end_date,
        count(*) as trading_days

    from trading_days
    group by 1, 2

    union all

    select
        'year' as period_type,
        cast(date_trunc('year', trade_date) as date) as period_start,
        min(trade_date) as first_trading_date,
        max(trade_date) as end_date,
        count(*) as trading_days

    from trading_days
    group by 1, 2

),

with_previous as (

    select
        *,
        lag(end_date) over (partition by period_type order by period_start) as previous_end_date

    from periods

),

final as (

    select
        period_type,
        period_start,
        case
            when period_type = 'month' then strftime(period_start, '%Y-%m')
            else strftime(period_start, '%Y')
        end as period_label,
        coalesce(previous_end_date, first_trading_date) as base_date,
        first_trading_date,
        end_date,
        cast(trading_days as integer) as trading_days,
        previous_end_date is null as is_first_period

    from with_previous

)

select * from final
