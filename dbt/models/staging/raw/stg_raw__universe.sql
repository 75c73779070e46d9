with

source as (

    select * from {{ source('raw', 'universe') }}

),

renamed as (

    select
        -- ids
        cast(ticker as varchar) as ticker,

        -- descriptors
        cast(name as varchar) as security_name,
        lower(cast(kind as varchar)) as kind,
        lower(cast(size as varchar)) as size_bucket,
        lower(cast(style as varchar)) as style,
        cast(sector as varchar) as sector,

        -- flags
        cast(is_magnificent_7 as boolean) as is_magnificent_7,

        -- lineage
        cast(source as varchar) as source_label,
        cast(loaded_at as timestamp) as loaded_at

    from source

)

select * from renamed
