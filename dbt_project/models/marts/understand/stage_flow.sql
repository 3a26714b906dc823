{#- Per stage: how long people stay, and the share who move on, drop back or stall. -#}
{%- set flow = stage_config()['flow'] -%}
{%- set rank = flow['rank'] -%}
{%- set stall_after = flow.get('stall_after_days', 30) | int -%}
{%- set stages = ['awareness', 'consideration', 'purchase', 'onboarding', 'retention', 'advocacy', 'at_risk', 'lapsed'] -%}

with

spells as (

    select * from {{ ref('int_stage_spells') }}

),

judged as (

    select
        stage,
        person_id,
        days_in_stage,
        is_open,
        case
            when next_stage is null and days_in_stage >= {{ stall_after }} then 'stalled'
            when next_stage is null then 'ongoing'
            when {{ stage_moves_on('stage', 'next_stage', flow) }} then 'moved_on'
            else 'dropped_back'
        end as outcome
    from spells

),

stage_list as (

    {%- for stage in stages %}
    select '{{ stage }}' as stage, {{ loop.index }} as stage_order, {{ rank.get(stage, 0) }} as stage_rank
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

per_stage as (

    select
        stage,
        count(*) as spells,
        count(distinct person_id) as persons,
        sum(case when outcome = 'moved_on' then 1 else 0 end) as moved_on,
        sum(case when outcome = 'dropped_back' then 1 else 0 end) as dropped_back,
        sum(case when outcome = 'stalled' then 1 else 0 end) as stalled,
        sum(case when outcome = 'ongoing' then 1 else 0 end) as ongoing,
        avg(case when not is_open then days_in_stage end) as mean_days_closed,
        median(case when not is_open then days_in_stage end) as median_days_closed
    from judged
    group by stage

),

final as (

    select
        cast(stage_list.stage as {{ dbt.type_string() }}) as stage,
        cast(stage_list.stage_order as integer) as stage_order,
        cast(stage_list.stage_rank as integer) as stage_rank,
        cast(coalesce(per_stage.persons, 0) as bigint) as persons,
        cast(coalesce(per_stage.spells, 0) as bigint) as spells,
        cast(coalesce(per_stage.moved_on, 0) as bigint) as moved_on,
        cast(coalesce(per_stage.dropped_back, 0) as bigint) as dropped_back,
        cast(coalesce(per_stage.stalled, 0) as bigint) as stalled,
        cast(coalesce(per_stage.ongoing, 0) as bigint) as ongoing,
        cast(per_stage.moved_on as double) / nullif(per_stage.spells, 0) as share_moved_on,
        cast(per_stage.dropped_back as double) / nullif(per_stage.spells, 0) as share_dropped_back,
        cast(per_stage.stalled as double) / nullif(per_stage.spells, 0) as share_stalled,
        cast(per_stage.mean_days_closed as double) as mean_days_in_stage,
        cast(per_stage.median_days_closed as double) as median_days_in_stage
    from stage_list
    left join per_stage
        on per_stage.stage = stage_list.stage

)

select * from final
