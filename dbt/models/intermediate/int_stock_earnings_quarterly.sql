-- Quarterly earnings in dollars, trailing-twelve-month and forward earnings, per
-- ticker and fiscal quarter: the point-in-time state each reported quarter puts
-- the company in, and the day that state becomes known.
--
-- Share terms. EPS and shares outstanding are stated in the share terms of their
-- quarter (a later split does not restate them). Dollars do not depend on share
-- terms, so earnings are summed in dollars: eps x that quarter's shares. Shares
-- are also kept as "base shares" (shares / cumulative split factor at period end,
-- i.e. in the ticker's pre-split terms): a split-invariant count that a day's
-- as-traded close is applied to after multiplying by that day's split factor.
--
-- Point in time. A quarter is public from its available_date (report date, or
-- period end + 45 days). Its state (TTM over it and the three quarters before,
-- its share count, the estimate of the next quarter) is known from the latest
-- available_date of the four quarters it sums (known_from), normally its own.

with

fundamentals as (

    select
        ticker,
        period_end,
        available_date,
        eps,
        eps_estimate,
        shares_outstanding

    from {{ ref('stg_raw__fundamentals') }}

),

splits as (

    select
        ticker,
        trade_date,
        cumulative_split_factor

    from {{ ref('int_split_factors') }}

),

with_split_factor as (

    -- the split factor in force at period end: the latest split on or before it
    select
        fundamentals.*,
        coalesce(splits.cumulative_split_factor, 1.0) as split_factor

    from fundamentals
    asof left join splits
        on splits.ticker = fundamentals.ticker
        and fundamentals.period_end >= splits.trade_date

),

with_neighbours as (

    select
        *,
        -- a quarter without a share count borrows the last one reported, in base terms
        coalesce(
            shares_outstanding / split_factor,
            last_value(shares_outstanding / split_factor ignore nulls) over (
                partition by ticker
                order by period_end
                rows between unbounded preceding and 1 preceding
            )
        ) as base_shares,
        -- the next fiscal quarter, reported or not: the source of the forward estimate
        lead(period_end) over by_quarter as next_period_end,
        lead(eps_estimate) over by_quarter as next_eps_estimate,
        lead(split_factor) over by_quarter as next_split_factor

    from with_split_factor
    window by_quarter as (partition by ticker order by period_end)

),

reported as (

    select
        *,
        eps * base_shares * split_factor as earnings_usd

    from with_neighbours
    -- only reported quarters are states; an upcoming quarter only lends its estimate
    where eps is not null

),

with_ttm as (

    select
        *,
        sum(earnings_usd) over last_four as ttm_sum,
        count(earnings_usd) over last_four as ttm_quarters,
        min(period_end) over last_four as ttm_first_period_end,
        max(available_date) over last_four as known_from

    from reported
    window last_four as (
        partition by ticker
        order by period_end
        rows between 3 preceding and current row
    )

),

final as (

    select
        ticker,
        period_end,
        available_date,
        known_from,
        eps,
        eps_estimate,
        shares_outstanding,
        split_factor,
        base_shares,
        earnings_usd,
        -- four consecutive quarters (first and last period ends at most 300 days apart)
        case
            when ttm_quarters = 4 and period_end - ttm_first_period_end <= 300
                then ttm_sum
        end as ttm_earnings_usd,
        next_period_end,
        next_eps_estimate,
        -- the next quarter's consensus, annualised, in dollars; its EPS is in the
        -- next quarter's share terms, hence the next quarter's split factor
        case
            when next_eps_estimate is not null and next_period_end - period_end <= 100
                then 4.0 * next_eps_estimate * base_shares * next_split_factor
        end as forward_earnings_usd

    from with_ttm

)

select * from final
