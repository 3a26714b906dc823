{#- Every NPS answer with what it is analysed by: the respondent's segment, their journey stage when
    they answered, the survey's touchpoint, and the comment's sentiment and themes. The stage is the
    one at the end of the day before the answer: the answer itself is a stage signal (a 9 or 10
    makes an advocate that day), so the same day's stage would sort every promoter into advocacy.
    On a person's first day there is no day before, and the day's own stage stands in. -#}

with

responses as (

    select * from {{ ref('stg_surveys__responses') }}
    where nps is not null

),

record_persons as (

    select * from {{ source('identity', 'record_persons') }}
    where source = 'survey_responses'

),

segments as (

    select * from {{ ref('int_person_segments') }}

),

stage_days as (

    select * from {{ ref('person_stage_days') }}

),

signals as (

    select * from {{ source('voice', 'comment_signals') }}
    where source = 'survey_responses'

),

classified as (

    select
        responses.response_id,
        record_persons.person_id,
        cast(responses.submitted_at as {{ dbt.type_timestamp() }}) as submitted_at,
        {{ business_date('responses.submitted_at') }} as response_date,
        responses.touchpoint,
        responses.language,
        cast(responses.nps as integer) as nps,
        case
            when responses.nps >= 9 then 'promoter'
            when responses.nps >= 7 then 'passive'
            else 'detractor'
        end as nps_class
    from responses
    left join record_persons
        on record_persons.source = 'survey_responses'
        and record_persons.record_id = responses.response_id

),

final as (

    select
        classified.response_id,
        classified.person_id,
        classified.submitted_at,
        classified.response_date,
        classified.touchpoint,
        classified.language,
        classified.nps,
        classified.nps_class,
        coalesce(segments.segment, 'unknown') as segment,
        coalesce(stage_before.stage, stage_same_day.stage, 'unknown') as stage,
        signals.record_id is not null as has_comment,
        signals.sentiment_score,
        signals.sentiment_label,
        signals.themes
    from classified
    left join segments
        on segments.person_id = classified.person_id
    left join stage_days as stage_before
        on stage_before.person_id = classified.person_id
        and stage_before.stage_date = cast({{ dbt.dateadd('day', -1, 'classified.response_date') }} as date)
    left join stage_days as stage_same_day
        on stage_same_day.person_id = classified.person_id
        and stage_same_day.stage_date = classified.response_date
    left join signals
        on signals.record_id = classified.response_id

)

select * from final
