-- SEC EDGAR XBRL fact versions, typed: one filing's figure for one company, concept,
-- unit and period. Every version stays (a restatement is another row), so the
-- intermediate models can pick the first-reported one and the day it became public.

with

source as (

    select * from {{ source('raw', 'edgar_facts') }}

),

renamed as (

    select
        -- ids
        cast(cik as varchar) as cik,
        cast(ticker as varchar) as ticker,
        cast(taxonomy as varchar) as taxonomy,
        cast(concept as varchar) as concept,
        cast(unit as varchar) as unit,
        cast(accn as varchar) as accn,

        -- period
        cast(period_start as date) as period_start,
        cast(period_end as date) as period_end,
        -- length in days (NULL for an instant fact): what makes a fact a quarter, nine
        -- months or a year; fy/fp describe the filing, not the period
        cast(period_end as date) - cast(period_start as date) as duration_days,

        -- measures
        cast(value as double) as value,

        -- the filing
        cast(filed as date) as filed,
        cast(form as varchar) as form,
        cast(fy as integer) as filing_fiscal_year,
        cast(fp as varchar) as filing_fiscal_period,
        cast(frame as varchar) as sec_frame,

        -- lineage
        cast(source as varchar) as source_label,
        cast(loaded_at as timestamp) as loaded_at

    from source

)

select * from renamed
