with

source as (

    select * from {{ source('raw', 'fundamentals') }}

),

renamed as (

    select
        -- ids
        cast(ticker as varchar) as ticker,
        cast(period_end as date) as period_end,

        -- dates
        cast(report_date as date) as report_date,
        -- when the quarter was public: the report date, else the usual 45-day lag
        coalesce(
            cast(report_date as date),
            cast(period_end + interval 45 day as date)
        ) as available_date,

        -- measures
        cast(eps as double) as eps,
        cast(eps_estimate as double) as eps_estimate,
        cast(shares_outstanding as double) as shares_outstanding,

        -- lineage
        cast(source as varchar) as source_label,
        cast(loaded_at as timestamp) as loaded_at

    from source

)

select * from renamed
