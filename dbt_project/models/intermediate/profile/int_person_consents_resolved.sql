{#- One row per person and consent purpose: the person's current consent (DESIGN.md, Consent). The
    latest event by event time wins; events at the same instant resolve to withdrawn; with no event,
    an opt-in purpose (config/profile.yml kizuna__consent.opt_in) is denied, any other granted.
    Signals come from every source (int_consent_events: consent events and the Segment
    context.consent of collected events) and reach the person through their record's person
    (identity.record_persons). -#}
{%- set purposes = ['analytics', 'personalization', 'email_marketing', 'advertising', 'sms_marketing', 'data_sharing'] -%}

with

consent_events as (

    select * from {{ ref('int_consent_events') }}

),

record_persons as (

    select * from {{ source('identity', 'record_persons') }}

),

identity_graph as (

    select * from {{ ref('identity_graph') }}

),

persons as (

    select distinct person_id from identity_graph

),

purposes as (

    {% for purpose in purposes %}
    select
        '{{ purpose }}' as purpose,
        '{{ "denied" if consent_is_opt_in(purpose) else "granted" }}' as default_status
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

ranked_events as (

    select
        record_persons.person_id,
        consent_events.purpose,
        consent_events.consent_status,
        consent_events.consent_source,
        consent_events.occurred_at,
        row_number() over (
            partition by record_persons.person_id, consent_events.purpose
            order by
                consent_events.occurred_at desc,
                case when consent_events.consent_status = 'withdrawn' then 0 else 1 end,
                consent_events.source,
                consent_events.record_id
        ) as event_rank
    from consent_events
    inner join record_persons
        on record_persons.source = consent_events.source
        and record_persons.record_id = consent_events.record_id

),

final as (

    select
        persons.person_id,
        purposes.purpose,
        coalesce(ranked_events.consent_status, purposes.default_status) as consent_status,
        ranked_events.occurred_at as consent_updated_at,
        ranked_events.consent_source,
        ranked_events.person_id is null as is_default
    from persons
    cross join purposes
    left join ranked_events
        on ranked_events.person_id = persons.person_id
        and ranked_events.purpose = purposes.purpose
        and ranked_events.event_rank = 1

)

select * from final
