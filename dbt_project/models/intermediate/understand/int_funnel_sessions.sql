{#- Web and app sessions with how far each got through the shop funnel (var kizuna__funnel, from
    config/experience.yml) and its checkout facts. A session is one person's events on one
    browser or app install (anonymous id) with no gap over 30 minutes: funnels are read per
    device, so a session does not span devices as the profile's session count does. -#}
{%- set default_steps = ['Product Viewed', 'Product Added', 'Checkout Started', 'Payment Info Entered', 'Order Completed'] -%}
{%- set steps = var('kizuna__funnel', {}).get('steps', default_steps) -%}
{%- if steps is string or steps | length < 2 -%}
    {{ exceptions.raise_compiler_error("config/experience.yml: kizuna__funnel.steps must list at least two events") }}
{%- endif -%}
{%- set session_gap_seconds = 1800 -%}

with

segment_events as (

    select * from {{ ref('stg_segment__events') }}

),

person_events as (

    select * from {{ ref('person_events') }}

),

events as (

    select
        person_events.person_id,
        segment_events.event_id,
        segment_events.anonymous_id,
        segment_events.event_type,
        segment_events.event_name,
        segment_events.event_at,
        segment_events.channel,
        coalesce(segment_events.device_type, 'unknown') as device_type
    from segment_events
    inner join person_events
        on person_events.source = 'events'
        and person_events.record_id = cast(segment_events.event_id as {{ dbt.type_string() }})
    where segment_events.channel in ('web', 'app')
        and segment_events.event_at is not null

),

gaps as (

    select
        *,
        {{ epoch_seconds('event_at') }} - lag({{ epoch_seconds('event_at') }}) over (
            partition by person_id, anonymous_id order by event_at, event_id
        ) as seconds_since_previous
    from events

),

numbered as (

    select
        *,
        sum(case when seconds_since_previous is null or seconds_since_previous > {{ session_gap_seconds }} then 1 else 0 end) over (
            partition by person_id, anonymous_id order by event_at, event_id
            rows between unbounded preceding and current row
        ) as session_number
    from gaps

),

session_events as (

    select
        {{ dbt.concat(["person_id", "'|'", "coalesce(anonymous_id, '')", "'|'", "cast(session_number as " ~ dbt.type_string() ~ ")"]) }} as session_id,
        *
    from numbered

),

session_firsts as (

    -- The channel and device of the session's first event (ties: event id).
    select session_id, channel, device_type
    from (
        select
            session_id,
            channel,
            device_type,
            row_number() over (partition by session_id order by event_at, event_id) as position
        from session_events
    ) as ranked
    where position = 1

),

sessions as (

    select
        session_id,
        min(person_id) as person_id,
        min(anonymous_id) as anonymous_id,
        min(event_at) as started_at,
        max(event_at) as ended_at,
        count(*) as events,
        min(case when event_name = 'Product Added' then event_at end) as first_product_added_at,
        min(case when event_name = 'Checkout Started' then event_at end) as first_checkout_started_at,
        min(case when event_name = 'Payment Info Entered' then event_at end) as first_payment_info_at,
        min(case when event_name = 'Order Completed' then event_at end) as first_order_completed_at,
        sum(case when event_name = 'Checkout Step Completed' then 1 else 0 end) as checkout_steps_completed,
        sum(case when event_name = 'Payment Failed' then 1 else 0 end) as payment_failures
    from session_events
    group by session_id

),

funnel_events as (

    select session_id, event_name, event_at
    from session_events
    where event_type = 'track'
        and event_name in (
            {%- for step in steps %}'{{ step | replace("'", "''") }}'{% if not loop.last %}, {% endif %}{% endfor -%}
        )

),

{% for step in steps %}
step_{{ loop.index }} as (

    -- Reached once the step's event follows the previous step (at the same instant counts).
    select
        {%- if loop.first %}
        session_id,
        min(event_at) as reached_at
    from funnel_events
    where event_name = '{{ step | replace("'", "''") }}'
    group by session_id
        {%- else %}
        step_{{ loop.index0 }}.session_id,
        min(funnel_events.event_at) as reached_at
    from step_{{ loop.index0 }}
    inner join funnel_events
        on funnel_events.session_id = step_{{ loop.index0 }}.session_id
        and funnel_events.event_name = '{{ step | replace("'", "''") }}'
        and funnel_events.event_at >= step_{{ loop.index0 }}.reached_at
    group by step_{{ loop.index0 }}.session_id
        {%- endif %}

),

{% endfor %}
final as (

    select
        sessions.session_id,
        sessions.person_id,
        sessions.anonymous_id,
        session_firsts.channel,
        session_firsts.device_type,
        sessions.started_at,
        sessions.ended_at,
        {{ business_date('sessions.started_at') }} as session_date,
        sessions.events,
        case
            {%- for step in steps | reverse %}
            when step_{{ steps | length - loop.index0 }}.reached_at is not null then {{ steps | length - loop.index0 }}
            {%- endfor %}
            else 0
        end as steps_reached,
        sessions.first_product_added_at,
        sessions.first_checkout_started_at,
        sessions.first_payment_info_at,
        sessions.first_order_completed_at,
        sessions.checkout_steps_completed,
        sessions.payment_failures
    from sessions
    inner join session_firsts
        on session_firsts.session_id = sessions.session_id
    {%- for step in steps %}
    left join step_{{ loop.index }}
        on step_{{ loop.index }}.session_id = sessions.session_id
    {%- endfor %}

)

select * from final
