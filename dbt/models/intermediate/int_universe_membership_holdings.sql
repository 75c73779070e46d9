-- Size-bucket membership from ETF holdings files: the alternative to the yearly
-- reconstitution (marts.universe_membership selects it when var('universe_method')
-- is 'etf_holdings').
--
-- A fund's bucket comes from var('holdings_fund_buckets') (IWB, IVV large; IWM small);
-- holdings of other funds define no bucket. Each holding of a file is a member from
-- the first session after the file's as_of_date (the holdings are a close; they are
-- public after it) until the first session after the fund's next file: valid_to is
-- that next file's valid_from, exclusive, and NULL for the fund's latest file (still
-- valid). A file with no session after it in the data yet is not effective, and of
-- files that take effect on the same session only the latest counts. One row per
-- fund, file and holding: a name held by two funds of a bucket (IWB and IVV) has a
-- row for each.

{%- set buckets = var('holdings_fund_buckets') %}

with

holdings as (

    select
        fund,
        as_of_date,
        ticker

    from {{ ref('stg_raw__etf_holdings') }}

),

fund_buckets as (

    {% for fund, bucket in buckets.items() %}
    select '{{ fund | upper }}' as fund, '{{ bucket | lower }}' as size_bucket
    {% if not loop.last %}union all{% endif %}
    {% else %}
    -- no fund mapped: no membership
    select cast(null as varchar) as fund, cast(null as varchar) as size_bucket
    where false
    {% endfor %}

),

files as (

    select distinct
        holdings.fund,
        holdings.as_of_date

    from holdings
    inner join fund_buckets on fund_buckets.fund = holdings.fund

),

effective_files as (

    select
        files.fund,
        files.as_of_date,
        next_session.trade_date as valid_from

    from files
    {{ first_session_after('files.as_of_date') }}
    where next_session.trade_date is not null
    qualify row_number() over (
        partition by files.fund, next_session.trade_date
        order by files.as_of_date desc
    ) = 1

),

spells as (

    select
        fund,
        as_of_date,
        valid_from,
        lead(valid_from) over (partition by fund order by valid_from) as valid_to

    from effective_files

),

final as (

    select
        holdings.ticker,
        fund_buckets.size_bucket,
        spells.valid_from,
        spells.valid_to,
        'etf_holdings' as method,
        spells.fund,
        spells.as_of_date

    from spells
    inner join holdings
        on holdings.fund = spells.fund
        and holdings.as_of_date = spells.as_of_date
    inner join fund_buckets on fund_buckets.fund = spells.fund

)

select * from final
