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
-- Point in time. A quarter's figures are public on its public_date and usable
-- from its available_date, the first session strictly after it: the sources give
-- a report's day, not its time, and a report after the close (the usual case)
-- cannot be traded on that day's close. (No source here says "before the open";
-- one that did could count such a report on its own day.) The public date is:
--   1. the report date, where the source has it;
--   2. else EDGAR's first filing date of that quarter (int_edgar_net_income_quarterly,
--      a period end within 7 days, 52/53-week years), the 10-Q or 10-K itself;
--   3. else the filer's deadline: period end + 45 days for a fiscal Q1-Q3 (10-Q), + 90
--      for a fiscal Q4 (10-K), the small filers' deadlines (larger filers report
--      sooner; only a late filer comes after them). A fiscal Q4 is a quarter ending
--      in the month the company's fiscal year ends: from its latest EDGAR annual net
--      income fact, else December.
-- A quarter's state (TTM over it and the three quarters before, its share count,
-- the estimate of the next quarter) is known from the latest available_date of the
-- four quarters it sums (known_from), normally its own.

with

fundamentals as (

    select
        ticker,
        period_end,
        report_date,
        eps,
        eps_estimate,
        shares_outstanding

    from {{ ref('stg_raw__fundamentals') }}

),

edgar_quarters as (

    select
        ticker,
        period_end,
        filed

    from {{ ref('int_edgar_net_income_quarterly') }}

),

fiscal_year_ends as (

    -- the month each company's fiscal year ends: its latest EDGAR annual figure's end
    -- (a week earlier, so a 52/53-week year ending on 2024-02-03 counts as January)
    select
        ticker,
        arg_max(month(period_end - interval 7 day), period_end) as fiscal_year_end_month

    from {{ ref('stg_edgar__facts') }}
    where taxonomy = 'us-gaap'
        and concept = 'NetIncomeLoss'
        and duration_days between 350 and 380
    group by ticker

),

with_filed as (

    -- EDGAR's first filing of the quarter: a period end within a week of the source's
    select
        fundamentals.ticker,
        fundamentals.period_end,
        min(edgar_quarters.filed) as edgar_first_filed

    from fundamentals
    inner join edgar_quarters
        on edgar_quarters.ticker = fundamentals.ticker
        and edgar_quarters.period_end between fundamentals.period_end - interval 7 day
            and fundamentals.period_end + interval 7 day
    group by fundamentals.ticker, fundamentals.period_end

),

dated as (

    select
        fundamentals.*,
        with_filed.edgar_first_filed,
        month(fundamentals.period_end - interval 7 day)
            = coalesce(fiscal_year_ends.fiscal_year_end_month, 12) as is_fiscal_q4

    from fundamentals
    left join with_filed
        on with_filed.ticker = fundamentals.ticker
        and with_filed.period_end = fundamentals.period_end
    left join fiscal_year_ends on fiscal_year_ends.ticker = fundamentals.ticker

),

with_public_date as (

    select
        *,
        case
            when report_date is not null then 'report_date'
            when edgar_first_filed is not null then 'edgar_filed'
            when is_fiscal_q4 then 'deadline_10k'
            else 'deadline_10q'
        end as public_date_basis,
        cast(coalesce(
            report_date,
            edgar_first_filed,
            period_end + to_days(if(is_fiscal_q4, 90, 45))
        ) as date) as public_date

    from dated

),

with_available_date as (

    -- the first session after the public date; past the data's last session (nothing
    -- in the data can use it yet) the next day
    select
        with_public_date.*,
        coalesce(
            next_session.trade_date, cast(with_public_date.public_date + interval 1 day as date)
        ) as available_date

    from with_public_date
    {{ first_session_after('with_public_date.public_date') }}

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

    from with_available_date as fundamentals
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
        report_date,
        edgar_first_filed,
        public_date_basis,
        public_date,
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
