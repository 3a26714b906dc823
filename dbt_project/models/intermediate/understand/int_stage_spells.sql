{#- Runs of consecutive days a person spends in one stage (gaps and islands over person_stage_days). -#}
{%- set window = 'rows between unbounded preceding and current row' -%}

with

stage_days as (

    select person_id, stage_date, stage from {{ ref('person_stage_days') }}

),

as_of as (

    select max(stage_date) as as_of_date from stage_days

),

marked as (

    select
        person_id,
        stage_date,
        stage,
        case
            when lag(stage) over (partition by person_id order by stage_date) = stage then 0
            else 1
        end as starts_spell
    from stage_days

),

numbered as (

    select
        person_id,
        stage_date,
        stage,
        sum(starts_spell) over (partition by person_id order by stage_date {{ window }}) as spell_number
    from marked

),

spells as (

    select
        person_id,
        spell_number,
        min(stage) as stage,
        min(stage_date) as started_on,
        max(stage_date) as last_day_on,
        count(*) as days_in_stage
    from numbered
    group by person_id, spell_number

),

final as (

    select
        spells.person_id,
        cast(spells.spell_number as integer) as spell_number,
        spells.stage,
        spells.started_on,
        spells.last_day_on,
        cast(spells.days_in_stage as integer) as days_in_stage,
        lag(spells.stage) over (partition by spells.person_id order by spells.spell_number) as previous_stage,
        lead(spells.stage) over (partition by spells.person_id order by spells.spell_number) as next_stage,
        spells.last_day_on = as_of.as_of_date as is_open
    from spells
    cross join as_of

)

select * from final
