with

source as (

    select * from {{ source('raw', 'valuation_snapshots') }}

),

latest as (

    -- raw.valuation_snapshots is append-only: a second fetch on the same day adds a
    -- version when the figures moved. A day's snapshot is its latest version (the one
    -- taken nearest the close), as it was when each load replaced the day.
    select
        *,
        count(*) over by_day as version_count

    from source
    window by_day as (partition by ticker, snapshot_date)
    qualify row_number() over (
        partition by ticker, snapshot_date
        order by loaded_at desc
    ) = 1

),

renamed as (

    select
        -- ids
        cast(ticker as varchar) as ticker,
        cast(snapshot_date as date) as snapshot_date,

        -- measures
        cast(trailing_pe as double) as trailing_pe,
        cast(forward_pe as double) as forward_pe,
        cast(market_cap as double) as market_cap,

        -- lineage
        cast(source as varchar) as source_label,
        cast(loaded_at as timestamp) as loaded_at,
        cast(version_count as integer) as version_count

    from latest

)

select * from renamed
