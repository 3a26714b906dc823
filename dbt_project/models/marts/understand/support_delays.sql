{#- Support delays per ticket against the service levels of var kizuna__support_sla
    (config/experience.yml): first response and resolution time, breaches, repeat contacts.
    Hours are a number for every ticket or a mapping by priority with `default` for the rest. -#}
{%- set sla = var('kizuna__support_sla', {}) -%}
{%- set first_response = sla.get('first_response_hours', {'urgent': 2, 'high': 8, 'default': 24}) -%}
{%- set resolution = sla.get('resolution_hours', {'urgent': 24, 'high': 48, 'default': 72}) -%}
{%- set repeat_days = sla.get('repeat_contact_days', 7) -%}
{#- A level in hours: one number, or a case over the ticket's priority. -#}
{%- set levels = {} -%}
{%- for name, hours in [('first_response', first_response), ('resolution', resolution)] -%}
    {%- if hours is mapping -%}
        {%- set whens = [] -%}
        {%- for priority, value in hours.items() if priority != 'default' -%}
            {%- do whens.append("when timed.priority = '" ~ priority ~ "' then " ~ value) -%}
        {%- endfor -%}
        {%- set fallback = hours.get('default', 24 if name == 'first_response' else 72) | string -%}
        {%- do levels.update({name: ('case ' ~ whens | join(' ') ~ ' else ' ~ fallback ~ ' end') if whens else fallback}) -%}
    {%- else -%}
        {%- do levels.update({name: hours | string}) -%}
    {%- endif -%}
{%- endfor -%}

with

ticket_events as (

    select * from {{ ref('stg_helpdesk__ticket_events') }}

),

record_persons as (

    select * from {{ source('identity', 'record_persons') }}
    where source = 'support_tickets'

),

as_of as (

    -- Open tickets are aged up to the last moment the help desk export shows.
    select max(occurred_at) as as_of_at from ticket_events

),

opened as (

    -- A ticket's first event opens it (its `opened` event, or the earliest seen when that was lost).
    select
        ticket_events.ticket_id,
        ticket_events.ticket_event_id,
        ticket_events.occurred_at as opened_at,
        ticket_events.priority,
        ticket_events.ticket_category,
        ticket_events.contact_channel,
        row_number() over (
            partition by ticket_events.ticket_id
            order by case when ticket_events.ticket_event_type = 'opened' then 0 else 1 end,
                ticket_events.occurred_at, ticket_events.ticket_event_id
        ) as event_rank
    from ticket_events

),

persons as (

    -- The person of the opening message, else of any message of the ticket.
    select
        ticket_events.ticket_id,
        max(case when opened.ticket_event_id is not null then record_persons.person_id end) as opener_person_id,
        max(record_persons.person_id) as any_person_id
    from ticket_events
    inner join record_persons
        on record_persons.record_id = ticket_events.ticket_event_id
    left join opened
        on opened.ticket_event_id = ticket_events.ticket_event_id
        and opened.event_rank = 1
    group by ticket_events.ticket_id

),

responses as (

    select
        ticket_events.ticket_id,
        min(case when ticket_events.ticket_event_type in ('updated', 'resolved')
                and ticket_events.ticket_event_id <> opened.ticket_event_id
                and ticket_events.occurred_at >= opened.opened_at then ticket_events.occurred_at end)
            as first_response_at,
        min(case when ticket_events.ticket_event_type = 'resolved' then ticket_events.occurred_at end)
            as resolved_at
    from ticket_events
    inner join opened
        on opened.ticket_id = ticket_events.ticket_id
        and opened.event_rank = 1
    group by ticket_events.ticket_id

),

tickets as (

    select
        opened.ticket_id,
        coalesce(persons.opener_person_id, persons.any_person_id) as person_id,
        opened.priority,
        opened.ticket_category,
        opened.contact_channel,
        cast(opened.opened_at as {{ dbt.type_timestamp() }}) as opened_at,
        cast(responses.first_response_at as {{ dbt.type_timestamp() }}) as first_response_at,
        cast(responses.resolved_at as {{ dbt.type_timestamp() }}) as resolved_at,
        cast(as_of.as_of_at as {{ dbt.type_timestamp() }}) as as_of_at
    from opened
    inner join responses
        on responses.ticket_id = opened.ticket_id
    cross join as_of
    left join persons
        on persons.ticket_id = opened.ticket_id
    where opened.event_rank = 1

),

timed as (

    select
        tickets.*,
        -- As doubles on every engine (Spark's epoch_seconds and 3600.0 are decimals).
        cast({{ epoch_seconds('first_response_at') }} - {{ epoch_seconds('opened_at') }} as double) / 3600.0
            as first_response_hours,
        cast({{ epoch_seconds('resolved_at') }} - {{ epoch_seconds('opened_at') }} as double) / 3600.0
            as resolution_hours,
        cast({{ epoch_seconds('as_of_at') }} - {{ epoch_seconds('opened_at') }} as double) / 3600.0 as age_hours,
        lag(ticket_id) over (partition by person_id order by opened_at, ticket_id) as previous_ticket_id,
        lag(opened_at) over (partition by person_id order by opened_at, ticket_id) as previous_opened_at
    from tickets

),

with_sla as (

    select
        timed.*,
        {{ levels['first_response'] }} as first_response_sla_hours,
        {{ levels['resolution'] }} as resolution_sla_hours
    from timed

),

final as (

    select
        ticket_id,
        person_id,
        priority,
        ticket_category,
        contact_channel,
        opened_at,
        first_response_at,
        resolved_at,
        first_response_hours,
        resolution_hours,
        resolved_at is not null as is_resolved,
        cast(first_response_sla_hours as double) as first_response_sla_hours,
        cast(resolution_sla_hours as double) as resolution_sla_hours,
        -- Still waiting counts as late once the wait passed the level.
        coalesce(first_response_hours, age_hours) > first_response_sla_hours as first_response_breached,
        coalesce(resolution_hours, age_hours) > resolution_sla_hours as resolution_breached,
        case when person_id is not null
                and {{ epoch_seconds('opened_at') }} - {{ epoch_seconds('previous_opened_at') }}
                    <= {{ repeat_days }} * 86400
            then previous_ticket_id end as repeat_of_ticket_id,
        coalesce(person_id is not null
            and {{ epoch_seconds('opened_at') }} - {{ epoch_seconds('previous_opened_at') }}
                <= {{ repeat_days }} * 86400, false) as is_repeat_contact
    from with_sla

)

select * from final
