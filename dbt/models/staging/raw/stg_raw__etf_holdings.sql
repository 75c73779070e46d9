-- ETF holdings files, typed: one row per fund, holdings date and equity holding.
-- The files source keeps equity rows only (cash and derivatives are dropped as read).

with

source as (

    select * from {{ source('raw', 'etf_holdings') }}

),

renamed as (

    select
        -- ids
        upper(cast(fund as varchar)) as fund,
        cast(as_of_date as date) as as_of_date,
        cast(ticker as varchar) as ticker,

        -- descriptors
        cast(name as varchar) as security_name,
        cast(sector as varchar) as sector,
        cast(asset_class as varchar) as asset_class,

        -- measures
        cast(weight as double) as weight,
        cast(market_value as double) as market_value,
        cast(shares as double) as shares,

        -- lineage
        cast(source as varchar) as source_label,
        cast(loaded_at as timestamp) as loaded_at

    from source

)

select * from renamed
