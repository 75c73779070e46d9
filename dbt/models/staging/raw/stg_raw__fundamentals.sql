with

source as (

    select * from {{ source('raw', 'fundamentals') }}

),

first_reported as (

    -- raw.fundamentals is append-only: a fetch adds a version of a quarter when its
    -- figures differ from the latest held one. Point-in-time use reads the quarter as
    -- first reported: its oldest version with a reported EPS (a quarter not reported
    -- yet, whose versions all lack one, reads its latest: the freshest estimate).
    select
        *,
        count(*) over by_quarter as version_count

    from source
    window by_quarter as (partition by ticker, period_end)
    qualify row_number() over (
        partition by ticker, period_end
        order by
            eps is not null desc,
            case when eps is not null then loaded_at end asc,
            loaded_at desc
    ) = 1

),

renamed as (

    select
        -- ids
        cast(ticker as varchar) as ticker,
        cast(period_end as date) as period_end,

        -- dates
        cast(report_date as date) as report_date,

        -- measures
        cast(eps as double) as eps,
        cast(eps_estimate as double) as eps_estimate,
        cast(shares_outstanding as double) as shares_outstanding,

        -- lineage
        cast(source as varchar) as source_label,
        cast(loaded_at as timestamp) as loaded_at,
        cast(version_count as integer) as version_count

    from first_reported

)

select * from renamed
