-- The event study averaged by pair and horizon, over every cut and over the cuts
-- that opened an easing cycle only. Only complete events (horizon inside the
-- loaded history, both legs priced) count.

with

events as (

    select * from {{ ref('rate_cut_event_study') }}
    where relative_return is not null

),

cut_sets as (

    select 'all_cuts' as cut_set, events.* from events

    union all

    select 'first_cuts' as cut_set, events.* from events
    where is_first_cut_of_cycle

),

summarised as (

    select
        pair,
        cut_set,
        horizon_days,
        count(*) as n_events,
        min(decision_date) as first_decision_date,
        max(decision_date) as last_decision_date,
        avg(small_return) as avg_small_return,
        avg(large_return) as avg_large_return,
        avg(relative_return) as avg_relative_return,
        median(relative_return) as median_relative_return,
        avg(case when relative_return > 0 then 1.0 else 0.0 end) as share_small_outperformed

    from cut_sets
    group by pair, cut_set, horizon_days

),

final as (

    select
        pair,
        cut_set,
        horizon_days,
        cast(n_events as integer) as n_events,
        first_decision_date,
        last_decision_date,
        round(avg_small_return, 12) as avg_small_return,
        round(avg_large_return, 12) as avg_large_return,
        round(avg_relative_return, 12) as avg_relative_return,
        round(median_relative_return, 12) as median_relative_return,
        round(share_small_outperformed, 12) as share_small_outperformed

    from summarised

)

select * from final
