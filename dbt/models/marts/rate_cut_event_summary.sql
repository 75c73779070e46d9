-- The event study summarised by pair, cut set and horizon, over every cut and over
-- the cuts that opened an easing cycle (a first move in the data, whose status is
-- unknown, is not a first cut). Only complete events (horizon inside the loaded
-- history, both legs priced) count.
--
-- Cuts of one cycle come weeks apart, so their windows overlap and their returns are
-- not independent. The standard error is therefore clustered by easing cycle (the
-- cluster-robust standard error of a mean, with the small-sample factor G / (G - 1)):
-- se = sqrt(G / (G - 1) * sum over cycles of (sum of the cycle's deviations from the
-- mean)^2) / n, which is the textbook s / sqrt(n) when each cycle has one event (the
-- first cuts). The 95% interval is mean +/- t(0.975, G - 1) * se: deterministic, no
-- resampling; NULL with fewer than two cycles. The non-overlapping subset keeps events
-- at least one horizon apart, greedily from the earliest: an event is kept when its
-- base close is on or after the end close of the last event kept. Returns are rounded
-- to 4 decimals (1 bp); `+ 0.0` turns a rounded -0.0 into 0.0.

{#- t(0.975, df) for df = 1..30; beyond, the Cornish-Fisher expansion (error < 1e-4) #}
{%- set t975 = [12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
               2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
               2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423] %}
{%- set z = 1.959963984540054 %}

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

with_set_mean as (

    select
        *,
        avg(relative_return) over event_set as set_mean

    from cut_sets
    window event_set as (partition by pair, cut_set, horizon_days)

),

cycle_deviations as (

    -- each cycle's summed deviation from the set's mean: the clustered variance's terms
    select
        pair,
        cut_set,
        horizon_days,
        cycle_id,
        sum(relative_return - set_mean) as cycle_deviation

    from with_set_mean
    group by pair, cut_set, horizon_days, cycle_id

),

clustered as (

    select
        pair,
        cut_set,
        horizon_days,
        count(*) as n_cycles,
        sum(cycle_deviation * cycle_deviation) as sum_squared_cycle_deviations

    from cycle_deviations
    group by pair, cut_set, horizon_days

),

numbered as (

    select
        pair,
        cut_set,
        horizon_days,
        base_date,
        end_date,
        relative_return,
        row_number() over (
            partition by pair, cut_set, horizon_days order by decision_date
        ) as event_number

    from cut_sets

),

next_clear as (

    -- for each event, the first later event whose window starts at or after its end
    select
        numbered.pair,
        numbered.cut_set,
        numbered.horizon_days,
        numbered.event_number,
        min(later.event_number) as next_event_number

    from numbered
    left join numbered as later
        on later.pair = numbered.pair
        and later.cut_set = numbered.cut_set
        and later.horizon_days = numbered.horizon_days
        and later.base_date >= numbered.end_date
    group by numbered.pair, numbered.cut_set, numbered.horizon_days, numbered.event_number

),

kept as (

    -- greedy earliest-first: the first event, then each kept event's next clear one
    select * from (
        with recursive chain as (

            select pair, cut_set, horizon_days, event_number
            from numbered
            where event_number = 1

            union all

            select next_clear.pair, next_clear.cut_set, next_clear.horizon_days,
                next_clear.next_event_number
            from chain
            inner join next_clear
                on next_clear.pair = chain.pair
                and next_clear.cut_set = chain.cut_set
                and next_clear.horizon_days = chain.horizon_days
                and next_clear.event_number = chain.event_number
            where next_clear.next_event_number is not null

        )

        select * from chain
    )

),

non_overlapping as (

    select
        numbered.pair,
        numbered.cut_set,
        numbered.horizon_days,
        count(*) as n_non_overlapping,
        avg(numbered.relative_return) as avg_relative_return_non_overlapping

    from numbered
    inner join kept
        on kept.pair = numbered.pair
        and kept.cut_set = numbered.cut_set
        and kept.horizon_days = numbered.horizon_days
        and kept.event_number = numbered.event_number
    group by numbered.pair, numbered.cut_set, numbered.horizon_days

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

with_errors as (

    select
        summarised.*,
        clustered.n_cycles,
        case when clustered.n_cycles >= 2 then
            sqrt(
                clustered.n_cycles / (clustered.n_cycles - 1.0)
                * clustered.sum_squared_cycle_deviations
            ) / summarised.n_events
        end as se_relative_return,
        case
            when clustered.n_cycles < 2 then null
            when clustered.n_cycles - 1 <= {{ t975 | length }}
                then {{ t975 }}[clustered.n_cycles - 1]
            else {{ z }}
                + ({{ z }} ^ 3 + {{ z }}) / (4 * (clustered.n_cycles - 1.0))
                + (5 * {{ z }} ^ 5 + 16 * {{ z }} ^ 3 + 3 * {{ z }})
                    / (96 * (clustered.n_cycles - 1.0) ^ 2)
                + (3 * {{ z }} ^ 7 + 19 * {{ z }} ^ 5 + 17 * {{ z }} ^ 3 - 15 * {{ z }})
                    / (384 * (clustered.n_cycles - 1.0) ^ 3)
        end as t_critical

    from summarised
    inner join clustered
        on clustered.pair = summarised.pair
        and clustered.cut_set = summarised.cut_set
        and clustered.horizon_days = summarised.horizon_days

),

final as (

    select
        with_errors.pair,
        with_errors.cut_set,
        with_errors.horizon_days,
        cast(with_errors.n_events as integer) as n_events,
        cast(with_errors.n_cycles as integer) as n_cycles,
        with_errors.first_decision_date,
        with_errors.last_decision_date,
        round(with_errors.avg_small_return, 4) + 0.0 as avg_small_return,
        round(with_errors.avg_large_return, 4) + 0.0 as avg_large_return,
        round(with_errors.avg_relative_return, 4) + 0.0 as avg_relative_return,
        round(with_errors.median_relative_return, 4) + 0.0 as median_relative_return,
        round(with_errors.se_relative_return, 4) + 0.0 as se_relative_return,
        round(
            with_errors.avg_relative_return
            - with_errors.t_critical * with_errors.se_relative_return,
            4
        ) + 0.0 as ci95_low_relative_return,
        round(
            with_errors.avg_relative_return
            + with_errors.t_critical * with_errors.se_relative_return,
            4
        ) + 0.0 as ci95_high_relative_return,
        round(with_errors.share_small_outperformed, 4) + 0.0 as share_small_outperformed,
        cast(non_overlapping.n_non_overlapping as integer) as n_non_overlapping,
        round(non_overlapping.avg_relative_return_non_overlapping, 4) + 0.0
            as avg_relative_return_non_overlapping

    from with_errors
    inner join non_overlapping
        on non_overlapping.pair = with_errors.pair
        and non_overlapping.cut_set = with_errors.cut_set
        and non_overlapping.horizon_days = with_errors.horizon_days

)

select * from final
