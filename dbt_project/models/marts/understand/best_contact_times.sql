{#- The best hour of the week to reach each person: the business-time-zone hour of the week
    (Monday 00:00 = 0) in which the person engaged most (email opens and clicks, web and app
    session starts). A person with fewer engagements than var kizuna__contact_time.min_engagements
    (config/experience.yml, default 5) gets their segment's best hour, and the whole base's when
    the segment has none. Ties go to the hour engaged in most recently, then the earlier hour. -#}
{%- set min_engagements = var('kizuna__contact_time', {}).get('min_engagements', 5) -%}
{%- if min_engagements is not number or min_engagements < 1 -%}
    {{ exceptions.raise_compiler_error("config/experience.yml: kizuna__contact_time.min_engagements must be a whole number of at least 1") }}
{%- endif -%}
{%- set day_names = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] -%}

with

person_events as (

    select * from {{ ref('person_events') }}

),

sessions as (

    select * from {{ ref('int_funnel_sessions') }}

),

segments as (

    select * from {{ ref('int_person_segments') }}

),

engagements as (

    select
        person_id,
        occurred_at as engaged_at,
        {{ business_hour_of_week('occurred_at') }} as hour_of_week
    from person_events
    where source = 'email_events'
        and event_name in ('open', 'click')
        and occurred_at is not null
    union all
    select
        person_id,
        cast(started_at as {{ dbt.type_timestamp() }}) as engaged_at,
        {{ business_hour_of_week('started_at') }} as hour_of_week
    from sessions

),

person_hours as (

    select
        engagements.person_id,
        segments.segment,
        engagements.hour_of_week,
        count(*) as engagements,
        max(engagements.engaged_at) as last_engaged_at
    from engagements
    inner join segments
        on segments.person_id = engagements.person_id
    group by engagements.person_id, segments.segment, engagements.hour_of_week

),

person_best as (

    select person_id, hour_of_week, engagements
    from (
        select
            person_id,
            hour_of_week,
            engagements,
            row_number() over (
                partition by person_id order by engagements desc, last_engaged_at desc, hour_of_week
            ) as position
        from person_hours
    ) as ranked
    where position = 1

),

person_totals as (

    select person_id, sum(engagements) as engagements
    from person_hours
    group by person_id

),

segment_best as (

    select segment, hour_of_week
    from (
        select
            segment,
            hour_of_week,
            row_number() over (
                partition by segment order by sum(engagements) desc, max(last_engaged_at) desc, hour_of_week
            ) as position
        from person_hours
        group by segment, hour_of_week
    ) as ranked
    where position = 1

),

overall_best as (

    select hour_of_week
    from (
        select
            hour_of_week,
            row_number() over (
                order by sum(engagements) desc, max(last_engaged_at) desc, hour_of_week
            ) as position
        from person_hours
        group by hour_of_week
    ) as ranked
    where position = 1

),

chosen as (

    select
        segments.person_id,
        segments.segment,
        coalesce(person_totals.engagements, 0) as engagements,
        case
            when coalesce(person_totals.engagements, 0) >= {{ min_engagements }} then person_best.hour_of_week
            when segment_best.hour_of_week is not null then segment_best.hour_of_week
            else overall_best.hour_of_week
        end as best_hour_of_week,
        case
            when coalesce(person_totals.engagements, 0) >= {{ min_engagements }} then 'person'
            when segment_best.hour_of_week is not null then 'segment'
            when overall_best.hour_of_week is not null then 'overall'
            else 'none'
        end as basis,
        case
            when coalesce(person_totals.engagements, 0) >= {{ min_engagements }} then person_best.engagements
        end as best_hour_engagements
    from segments
    left join person_totals
        on person_totals.person_id = segments.person_id
    left join person_best
        on person_best.person_id = segments.person_id
    left join segment_best
        on segment_best.segment = segments.segment
    left join overall_best
        on 1 = 1

),

final as (

    select
        cast(person_id as {{ dbt.type_string() }}) as person_id,
        cast(segment as {{ dbt.type_string() }}) as segment,
        cast(engagements as {{ dbt.type_int() }}) as engagements,
        cast(best_hour_of_week as {{ dbt.type_int() }}) as best_hour_of_week,
        cast(case
            {%- for day in day_names %}
            when floor(best_hour_of_week / 24) = {{ loop.index0 }} then '{{ day }}'
            {%- endfor %}
        end as {{ dbt.type_string() }}) as best_day_of_week,
        cast(best_hour_of_week - 24 * floor(best_hour_of_week / 24) as {{ dbt.type_int() }}) as best_hour_of_day,
        cast(basis as {{ dbt.type_string() }}) as basis,
        cast(best_hour_engagements as {{ dbt.type_int() }}) as best_hour_engagements
    from chosen

)

select * from final
