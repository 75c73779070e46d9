-- FOMC decisions that changed the Fed funds target, grouped into policy cycles.
-- A cycle is a run of moves in one direction. A move opens a new cycle when the
-- move before it (in the data) went the other way, or when it comes at least
-- var('cycle_restart_after_hold_days') (365) days after that move, however the
-- two moves point. The first move in the data cannot be classified: the move
-- before it is not loaded (1990-07-13 sits inside the easing that began in 1989),
-- so its is_first_cut_of_cycle / is_first_hike_of_cycle are NULL and
-- cycle_flag_reason says why. Dating by decision day (FRED's range series move
-- the day after) is int_fomc_moves' job.

{%- set restart_after = var('cycle_restart_after_hold_days') %}

with

moves as (

    select * from {{ ref('int_fomc_moves') }}

),

with_previous as (

    select
        *,
        lag(direction) over by_date as previous_direction,
        lag(decision_date) over by_date as previous_decision_date

    from moves
    window by_date as (order by decision_date)

),

classified as (

    select
        *,
        case
            when previous_decision_date is null then 'first_move_in_data'
            when previous_direction <> direction then 'reversal'
            when decision_date - previous_decision_date >= {{ restart_after }} then 'long_hold'
            else 'continuation'
        end as cycle_flag_reason

    from with_previous

),

numbered as (

    select
        *,
        cycle_flag_reason <> 'continuation' as opens_cycle,
        sum(case when cycle_flag_reason <> 'continuation' then 1 else 0 end) over (
            order by decision_date
            rows between unbounded preceding and current row
        ) as cycle_number

    from classified

),

in_cycle as (

    select
        *,
        min(decision_date) over (partition by cycle_number) as cycle_start_date,
        row_number() over (partition by cycle_number order by decision_date) as move_number_in_cycle,
        sum(move_bp) over (
            partition by cycle_number
            order by decision_date
            rows between unbounded preceding and current row
        ) as cycle_change_to_date_bp

    from numbered

),

final as (

    select
        decision_date,
        effective_date,
        move_bp as change_bp,
        previous_target_lower,
        previous_target_upper,
        new_target_lower,
        new_target_upper,
        direction,
        case when direction = 'cut' then 'easing' else 'tightening' end as cycle_type,
        (case when direction = 'cut' then 'easing' else 'tightening' end)
            || '-' || strftime(cycle_start_date, '%Y-%m-%d') as cycle_id,
        cast(cycle_number as integer) as cycle_number,
        cycle_start_date,
        cast(move_number_in_cycle as integer) as move_number_in_cycle,
        round(cycle_change_to_date_bp, 6) as cycle_change_to_date_bp,
        case when cycle_flag_reason <> 'first_move_in_data'
            then direction = 'cut' and opens_cycle end as is_first_cut_of_cycle,
        case when cycle_flag_reason <> 'first_move_in_data'
            then direction = 'hike' and opens_cycle end as is_first_hike_of_cycle,
        cycle_flag_reason,
        cycle_number = 1 as is_first_cycle_in_data,
        cast(decision_date - previous_decision_date as integer) as days_since_previous_move

    from in_cycle

)

select * from final
