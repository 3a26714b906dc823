{#- Every change of a person's stage, with when it happened and how long the previous stage lasted. -#}
{%- set flow = stage_config()['flow'] -%}

with

spells as (

    select * from {{ ref('int_stage_spells') }}

),

signals as (

    select person_id, signal_date, last_signal_at from {{ ref('int_person_day_signals') }}

),

changes as (

    select
        person_id,
        spell_number,
        previous_stage as from_stage,
        stage as to_stage,
        started_on as transitioned_on,
        lag(days_in_stage) over (partition by person_id order by spell_number) as days_in_from_stage,
        lag(started_on) over (partition by person_id order by spell_number) as from_stage_started_on
    from spells

),

final as (

    select
        changes.person_id,
        changes.from_stage,
        changes.to_stage,
        cast(changes.from_stage_started_on as date) as from_stage_started_on,
        changes.transitioned_on,
        -- The stage is the state at the end of a day: the day's last signal is the latest time
        -- the change can have happened; a day without signals (a window ran out) has none.
        cast(signals.last_signal_at as {{ dbt.type_timestamp() }}) as transitioned_at,
        cast(changes.days_in_from_stage as integer) as days_in_from_stage,
        cast({{ stage_moves_on('changes.from_stage', 'changes.to_stage', flow) }} as boolean) as is_move_on
    from changes
    left join signals
        on signals.person_id = changes.person_id
        and signals.signal_date = changes.transitioned_on
    where changes.from_stage is not null

)

select * from final
