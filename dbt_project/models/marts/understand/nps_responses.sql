{#- Every NPS answer with what it is analysed by: the respondent's segment, their journey stage on
    the day they answered, the survey's touchpoint, and the comment's sentiment and themes. -#}

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
        on record_persons.record_id = responses.response_id

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
        coalesce(stage_days.stage, 'unknown') as stage,
        signals.record_id is not null as has_comment,
        signals.sentiment_score,
        signals.sentiment_label,
        signals.themes
    from classified
    left join segments
        on segments.person_id = classified.person_id
    left join stage_days
        on stage_days.person_id = classified.person_id
        and stage_days.stage_date = classified.response_date
    left join signals
        on signals.record_id = classified.response_id

)

select * from final
