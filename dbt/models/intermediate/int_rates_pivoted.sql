-- FRED series pivoted to one row per calendar day and forward-filled, so every
-- day between the first and the last observation reads the latest known value.
-- The target range comes from DFEDTARL / DFEDTARU where they exist (from
-- 2008-12-16) and from the single DFEDTAR target before that.

with

observations as (

    select
        series_id,
        obs_date,
        observed_value

    from {{ ref('stg_raw__rates') }}
    where observed_value is not null

),

bounds as (

    select
        min(obs_date) as first_date,
        max(obs_date) as last_date

    from observations

),

calendar as (

    select cast(unnest(generate_series(first_date, last_date, interval 1 day)) as date) as rate_date
    from bounds

),

pivoted as (

    select
        obs_date,
        max(case when series_id = 'DFEDTAR' then observed_value end) as target_single,
        max(case when series_id = 'DFEDTARL' then observed_value end) as target_lower,
        max(case when series_id = 'DFEDTARU' then observed_value end) as target_upper,
        max(case when series_id = 'DFF' then observed_value end) as effective_rate,
        max(case when series_id = 'DGS2' then observed_value end) as dgs2,
        max(case when series_id = 'DGS10' then observed_value end) as dgs10,
        max(case when series_id = 'T10Y2Y' then observed_value end) as t10y2y

    from observations
    group by obs_date

),

filled as (

    select
        calendar.rate_date,
        last_value(pivoted.target_single ignore nulls) over days_so_far as target_single,
        last_value(pivoted.target_lower ignore nulls) over days_so_far as target_lower,
        last_value(pivoted.target_upper ignore nulls) over days_so_far as target_upper,
        last_value(pivoted.effective_rate ignore nulls) over days_so_far as effective_rate,
        last_value(pivoted.dgs2 ignore nulls) over days_so_far as dgs2,
        last_value(pivoted.dgs10 ignore nulls) over days_so_far as dgs10,
        last_value(pivoted.t10y2y ignore nulls) over days_so_far as t10y2y

    from calendar
    left join pivoted on pivoted.obs_date = calendar.rate_date
    window days_so_far as (
        order by calendar.rate_date
        rows between unbounded preceding and current row
    )

),

final as (

    select
        rate_date,
        coalesce(target_lower, target_single) as target_lower,
        coalesce(target_upper, target_single) as target_upper,
        case
            when target_lower is not null and target_upper is not null then 'range'
            when target_single is not null then 'single'
        end as target_kind,
        effective_rate,
        dgs2,
        dgs10,
        t10y2y

    from filled

)

select * from final
