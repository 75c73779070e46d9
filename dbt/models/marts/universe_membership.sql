-- Which stocks are large and which small, over time: one row per ticker per
-- membership spell, valid from valid_from (inclusive) to valid_to (exclusive; NULL:
-- still valid). A stock is a member on day D when valid_from <= D < valid_to.
--
-- Method 'reconstitution' (Russell's): each year, the stocks (raw.universe kind
-- 'stock') are ranked by market cap on the rank day, the last session of May
-- (marts.stock_valuation_daily: point in time, EDGAR first). Ranks 1..L are large
-- and L+1..L+S small, L = var('universe_large_count') (1000), S =
-- var('universe_small_count') (2000); with n < L + S names ranked (a user's universe
-- is usually far smaller), the large cut keeps Russell's share by count: the top
-- round(n x L / (L + S)) names (the top third), at least one, and the rest are
-- small. A name without a market cap on the rank day is not ranked and joins no
-- bucket that year. The membership takes effect on the first session after the
-- fourth Friday of June and holds until the next reconstitution with ranked names;
-- each year's membership is its own spell (its own rank), consecutive years in the
-- same bucket included.
--
-- Method 'etf_holdings' (var('universe_method')): the holdings files of the funds
-- in var('holdings_fund_buckets') (int_universe_membership_holdings: one row per
-- fund, file and holding). A name held by two funds (IWB and IVV) has overlapping
-- spells there; here each ticker's timeline is cut at every file boundary and each
-- piece keeps one bucket (large when a large and a small fund both hold it) and the
-- first fund alphabetically, so spells never overlap.
--
-- Before the first spell of either method there is no membership to use; with
-- var('universe_static_list_before_first_rank') (true) the stocks of raw.universe
-- hold their listed size from the first trading day until then, labelled method
-- 'static_list' (today's list applied to the past: survivorship and hindsight, kept
-- visible by the label); false leaves that period without members.

-- depends_on: {{ ref('int_universe_reconstitution_dates') }}
-- depends_on: {{ ref('stock_valuation_daily') }}
-- depends_on: {{ ref('int_universe_membership_holdings') }}

{%- set method = var('universe_method') %}
{%- set n_large = var('universe_large_count') %}
{%- set n_small = var('universe_small_count') %}

{%- if method not in ('reconstitution', 'etf_holdings') %}
{{ exceptions.raise_compiler_error(
    "universe_method must be 'reconstitution' or 'etf_holdings', not '" ~ method ~ "'"
) }}
{%- endif %}

with

universe as (

    select
        ticker,
        size_bucket

    from {{ ref('stg_raw__universe') }}
    where kind = 'stock'

),

{%- if method == 'reconstitution' %}

reconstitution_dates as (

    select * from {{ ref('int_universe_reconstitution_dates') }}

),

rank_day_caps as (

    select
        reconstitution_dates.reconstitution_year,
        reconstitution_dates.rank_date,
        reconstitution_dates.effective_date,
        valuations.ticker,
        valuations.market_cap

    from reconstitution_dates
    inner join {{ ref('stock_valuation_daily') }} as valuations
        on valuations.trade_date = reconstitution_dates.rank_date
    where valuations.market_cap > 0
        and valuations.ticker in (select ticker from universe)

),

ranked as (

    select
        *,
        row_number() over (
            partition by reconstitution_year
            order by market_cap desc, ticker
        ) as rank,
        count(*) over (partition by reconstitution_year) as names_ranked

    from rank_day_caps

),

cutoffs as (

    select
        *,
        case
            when names_ranked >= {{ n_large }} + {{ n_small }} then {{ n_large }}
            else greatest(
                1,
                cast(round(names_ranked * {{ n_large }} / ({{ n_large }} + {{ n_small }})) as integer)
            )
        end as large_cutoff_rank

    from ranked

),

reconstitutions as (

    -- the years with ranked names, each held until the next
    select
        reconstitution_year,
        effective_date as valid_from,
        lead(effective_date) over (order by reconstitution_year) as valid_to

    from (select distinct reconstitution_year, effective_date from cutoffs)

),

method_spells as (

    select
        cutoffs.ticker,
        if(cutoffs.rank <= cutoffs.large_cutoff_rank, 'large', 'small') as size_bucket,
        reconstitutions.valid_from,
        reconstitutions.valid_to,
        'reconstitution' as method,
        cast(cutoffs.rank as integer) as rank,
        cutoffs.rank_date,
        cutoffs.market_cap as rank_market_cap,
        cast(cutoffs.names_ranked as integer) as names_ranked,
        cast(cutoffs.large_cutoff_rank as integer) as large_cutoff_rank,
        cast(null as varchar) as fund,
        cast(null as date) as as_of_date

    from cutoffs
    inner join reconstitutions
        on reconstitutions.reconstitution_year = cutoffs.reconstitution_year
    where cutoffs.rank <= {{ n_large }} + {{ n_small }}

),

{%- else %}

holdings as (

    select
        ticker,
        size_bucket,
        valid_from,
        valid_to,
        fund,
        as_of_date

    from {{ ref('int_universe_membership_holdings') }}

),

bounds as (

    select ticker, valid_from as bound from holdings
    union
    select ticker, valid_to as bound from holdings where valid_to is not null

),

pieces as (

    select
        ticker,
        bound as valid_from,
        lead(bound) over (partition by ticker order by bound) as valid_to

    from bounds

),

method_spells as (

    -- each piece held by at least one file; one bucket and fund per piece
    select
        pieces.ticker,
        holdings.size_bucket,
        pieces.valid_from,
        pieces.valid_to,
        'etf_holdings' as method,
        cast(null as integer) as rank,
        cast(null as date) as rank_date,
        cast(null as double) as rank_market_cap,
        cast(null as integer) as names_ranked,
        cast(null as integer) as large_cutoff_rank,
        holdings.fund,
        holdings.as_of_date

    from pieces
    inner join holdings
        on holdings.ticker = pieces.ticker
        and pieces.valid_from >= holdings.valid_from
        and (holdings.valid_to is null or pieces.valid_from < holdings.valid_to)
    qualify row_number() over (
        partition by pieces.ticker, pieces.valid_from
        order by holdings.size_bucket = 'large' desc, holdings.fund
    ) = 1

),

{%- endif %}

{%- if var('universe_static_list_before_first_rank') %}

static_period as (

    select
        (select min(trade_date) from {{ ref('int_trading_days') }}) as valid_from,
        (select min(valid_from) from method_spells) as valid_to

),

static_list as (

    select
        universe.ticker,
        universe.size_bucket,
        static_period.valid_from,
        static_period.valid_to,
        'static_list' as method,
        cast(null as integer) as rank,
        cast(null as date) as rank_date,
        cast(null as double) as rank_market_cap,
        cast(null as integer) as names_ranked,
        cast(null as integer) as large_cutoff_rank,
        cast(null as varchar) as fund,
        cast(null as date) as as_of_date

    from universe
    cross join static_period
    where universe.size_bucket in ('large', 'small')
        and static_period.valid_from is not null
        and (static_period.valid_to is null or static_period.valid_to > static_period.valid_from)

),

{%- endif %}

final as (

    select * from method_spells
    {%- if var('universe_static_list_before_first_rank') %}
    union all
    select * from static_list
    {%- endif %}

)

select * from final
