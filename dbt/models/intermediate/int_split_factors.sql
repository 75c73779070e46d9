-- Every split of every ticker, with the product of all its splits so far. The
-- cumulative factor converts between share terms: a count (shares, EPS) stated
-- at date a is in date b's terms after multiplying (shares) or dividing (EPS) by
-- factor(b) / factor(a), where factor(d) is the cumulative factor of the latest
-- split on or before d (1 before the first). Splits are rare, so lookups into
-- this small table (as-of joins) replace a running product over every price row.

with

splits as (

    select
        ticker,
        trade_date,
        split_ratio

    from {{ ref('fct_daily_prices') }}
    where split_ratio <> 1.0

),

final as (

    select
        ticker,
        trade_date,
        split_ratio,
        product(split_ratio) over (
            partition by ticker
            order by trade_date
            rows between unbounded preceding and current row
        ) as cumulative_split_factor

    from splits

)

select * from final
