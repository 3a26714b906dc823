with

source as (

    select * from {{ source('raw', 'survey_responses') }}

),

renamed as (

    select
        response_id,
        survey_id,
        crm_id,
        email,
        submitted_at,
        nps,
        comment,
        language,
        touchpoint,
        _partition as arrival_date,
        _ingested_at as ingested_at

    from source

),

final as (

    select * from renamed

)

select * from final
