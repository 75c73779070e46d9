-- Daily adjusted prices and total returns per ticker. Returns and the index are
-- rounded (12 and 10 decimals) so results are stable to compare across runs.

with

adjusted as (

    select * from {{ ref('int_prices_adjusted') }}

),

returns as (

    select
        *,
        adj_close
            / lag(adj_close) over (partition by ticker order by trade_date)
            - 1.0 as daily_return,
        100.0 * adj_close
            / first_value(adj_close) over (
                partition by ticker
                order by trade_date
                rows between unbounded preceding and current row
            ) as total_return_index

    from adjusted

),

final as (

    select
        ticker,
        trade_date,
        close,
        dividends,
        split_ratio,
        adj_close,
        round(daily_return, 12) as daily_return,
        round(total_return_index, 10) as total_return_index

    from returns

)

select * from final
