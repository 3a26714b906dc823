{#- The shop funnel by business month, channel, device and segment: sessions (and their persons)
    reaching each step of var kizuna__funnel in order, the step conversion and the drop-off.
    Every step of a cell has a row, so a step nobody reached shows as zero. -#}
{%- set default_steps = ['Product Viewed', 'Product Added', 'Checkout Started', 'Payment Info Entered', 'Order Completed'] -%}
{%- set steps = var('kizuna__funnel', {}).get('steps', default_steps) -%}

with

sessions as (

    select * from {{ ref('int_funnel_sessions') }}

),

segments as (

    select * from {{ ref('int_person_segments') }}

),

steps as (

    {% for step in steps %}
    select {{ loop.index }} as step_number, '{{ step | replace("'", "''") }}' as step_name
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

located as (

    select
        sessions.session_id,
        sessions.person_id,
        sessions.steps_reached,
        cast({{ dbt.date_trunc('month', 'sessions.session_date') }} as date) as period_month,
        sessions.channel,
        sessions.device_type,
        coalesce(segments.segment, 'other') as segment
    from sessions
    left join segments
        on segments.person_id = sessions.person_id

),

cells as (

    select
        period_month,
        channel,
        device_type,
        segment,
        count(*) as all_sessions
    from located
    group by period_month, channel, device_type, segment

),

reached as (

    select
        located.period_month,
        located.channel,
        located.device_type,
        located.segment,
        steps.step_number,
        count(*) as sessions,
        count(distinct located.person_id) as persons
    from located
    inner join steps
        on located.steps_reached >= steps.step_number
    group by located.period_month, located.channel, located.device_type, located.segment, steps.step_number

),

counted as (

    select
        cells.period_month,
        cells.channel,
        cells.device_type,
        cells.segment,
        steps.step_number,
        steps.step_name,
        cells.all_sessions,
        coalesce(reached.sessions, 0) as sessions,
        coalesce(reached.persons, 0) as persons
    from cells
    cross join steps
    left join reached
        on reached.period_month = cells.period_month
        and reached.channel = cells.channel
        and reached.device_type = cells.device_type
        and reached.segment = cells.segment
        and reached.step_number = steps.step_number

),

compared as (

    select
        *,
        coalesce(
            lag(sessions) over (
                partition by period_month, channel, device_type, segment order by step_number
            ),
            all_sessions
        ) as previous_sessions,
        max(case when step_number = 1 then sessions end) over (
            partition by period_month, channel, device_type, segment
        ) as first_step_sessions
    from counted

),

final as (

    select
        period_month,
        cast(channel as {{ dbt.type_string() }}) as channel,
        cast(device_type as {{ dbt.type_string() }}) as device_type,
        cast(segment as {{ dbt.type_string() }}) as segment,
        cast(step_number as {{ dbt.type_int() }}) as step_number,
        cast(step_name as {{ dbt.type_string() }}) as step_name,
        cast(all_sessions as {{ dbt.type_int() }}) as all_sessions,
        cast(previous_sessions as {{ dbt.type_int() }}) as previous_sessions,
        cast(sessions as {{ dbt.type_int() }}) as sessions,
        cast(persons as {{ dbt.type_int() }}) as persons,
        cast(previous_sessions - sessions as {{ dbt.type_int() }}) as drop_off,
        cast(case when previous_sessions > 0 then cast(sessions as double) / previous_sessions end as double) as step_conversion,
        cast(case when first_step_sessions > 0 then cast(sessions as double) / first_step_sessions end as double) as overall_conversion
    from compared

)

select * from final
