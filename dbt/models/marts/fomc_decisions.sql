-- FOMC decisions that changed the Fed funds target, grouped into policy cycles.
-- A cycle is a run of moves in one direction: the first cut after a hike (or
-- the first move in the data) opens an easing cycle, the first hike after a cut
-- a tightening cycle, however long the hold in between. Dating by decision day
-- (FRED's range series move the day after) is int_fomc_moves' job.

with

moves as (

    select * from {{ ref('int_fomc_moves') }}

),

flagged as (

    select
        *,
        lag(direction) over (order by decision_date) as previous_direction,
        lag(decision_date) over (order by decision_date) as previous_decision_date

    from moves

),

numbered as (

    select
        *,
        previous_direction is distinct from direction as opens_cycle,
        sum(case when previous_direction is distinct from direction then 1 else 0 end) over (
            order by decision_date
            rows between unbounded preceding and current row
        ) as cycle_number

    from flagged

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
        direction = 'cut' and opens_cycle as is_first_cut_of_cycle,
        direction = 'hike' and opens_cycle as is_first_hike_of_cycle,
        cycle_number = 1 as is_first_cycle_in_data,
        cast(decision_date - previous_decision_date as integer) as days_since_previous_move

    from in_cycle

)

select * from final
