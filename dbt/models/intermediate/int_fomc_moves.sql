-- Changes of the Fed funds target, found as the days the (forward-filled)
-- target differs from the day before, dated by the FOMC decision.
-- FRED's range series (DFEDTARL / DFEDTARU) show a new level the day AFTER the
-- decision (2024-09-18's cut shows from 2024-09-19), so a change within the
-- range era is dated var('fomc_decision_lag_days') (1) earlier. The single
-- target DFEDTAR changes on the announcement date, and the range series start
-- on the decision day of 2008-12-16, so a change whose previous level was the
-- single target is dated var('fomc_decision_lag_days_single_target') (0) earlier.

with

targets as (

    select
        rate_date,
        target_lower,
        target_upper,
        (target_lower + target_upper) / 2.0 as target_mid,
        target_kind

    from {{ ref('int_rates_pivoted') }}
    where target_lower is not null and target_upper is not null

),

with_previous as (

    select
        *,
        lag(target_lower) over (order by rate_date) as previous_target_lower,
        lag(target_upper) over (order by rate_date) as previous_target_upper,
        lag(target_mid) over (order by rate_date) as previous_target_mid,
        lag(target_kind) over (order by rate_date) as previous_target_kind

    from targets

),

changes as (

    select *
    from with_previous
    -- a move shifts the middle of the target; the first day has nothing to compare
    where previous_target_mid is not null
        and target_mid <> previous_target_mid

),

final as (

    select
        cast(
            rate_date - case
                when previous_target_kind = 'range'
                    then {{ var('fomc_decision_lag_days') }}
                else {{ var('fomc_decision_lag_days_single_target') }}
            end
            as date
        ) as decision_date,
        rate_date as effective_date,
        previous_target_lower,
        previous_target_upper,
        target_lower as new_target_lower,
        target_upper as new_target_upper,
        round((target_mid - previous_target_mid) * 100.0, 6) as move_bp,
        case when target_mid < previous_target_mid then 'cut' else 'hike' end as direction

    from changes

)

select * from final
