{#- Every consent signal of every source, one row per record and purpose (DESIGN.md, Consent):
    the consent events themselves, and the consent manager's state that Segment events carry in
    context.consent. A browser repeats its state on every event, so only the first state seen on
    each browser (anonymousId) and each change after it count as signals. `source` and `record_id`
    are those of identity resolution (identity.record_persons), so each signal finds its person. -#}
{%- set segment_purposes = ['analytics', 'personalization', 'advertising'] -%}

with

consent_events as (

    select * from {{ ref('stg_consent__events') }}

),

segment_events as (

    select * from {{ ref('stg_segment__events') }}

),

segment_preferences as (

    {% for purpose in segment_purposes %}
    select
        event_id,
        coalesce(anonymous_id, user_id) as browser_id,
        event_at,
        '{{ purpose }}' as purpose,
        consent_{{ purpose }} as is_granted
    from segment_events
    where consent_{{ purpose }} is not null
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

segment_changes as (

    select
        *,
        lag(is_granted) over (partition by browser_id, purpose order by event_at, event_id) as was_granted
    from segment_preferences

),

unioned as (

    select
        'consent_events' as source,
        consent_event_id as record_id,
        purpose,
        consent_status,
        consent_source,
        occurred_at
    from consent_events

    union all

    select
        'events' as source,
        event_id as record_id,
        purpose,
        case when is_granted then 'granted' else 'withdrawn' end as consent_status,
        'segment_context' as consent_source,
        event_at as occurred_at
    from segment_changes
    where was_granted is null
        or was_granted != is_granted

),

final as (

    select * from unioned

)

select * from final
