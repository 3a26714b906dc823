{#- What customers talk about: each theme's mentions in survey comments and ticket messages, their
    sentiment, and how often detractors and promoters name it. -#}

with

signals as (

    select * from {{ source('voice', 'comment_signals') }}

),

comment_themes as (

    select * from {{ source('voice', 'comment_themes') }}

),

responses as (

    select * from {{ ref('nps_responses') }}
    where has_comment

),

class_totals as (

    select
        sum(case when nps_class = 'detractor' then 1 else 0 end) as detractor_comments,
        sum(case when nps_class = 'promoter' then 1 else 0 end) as promoter_comments
    from responses

),

mentions as (

    select
        comment_themes.theme,
        comment_themes.source,
        signals.sentiment_score,
        signals.sentiment_label,
        responses.nps_class
    from comment_themes
    inner join signals
        on signals.source = comment_themes.source
        and signals.record_id = comment_themes.record_id
    left join responses
        on comment_themes.source = 'survey_responses'
        and responses.response_id = comment_themes.record_id

),

by_theme as (

    select
        theme,
        count(*) as comments,
        sum(case when source = 'survey_responses' then 1 else 0 end) as survey_comments,
        sum(case when source = 'support_tickets' then 1 else 0 end) as ticket_comments,
        avg(sentiment_score) as average_sentiment,
        -- Doubles, not decimals: Spark's avg of a decimal keeps only 5 places.
        avg(case when sentiment_label = 'negative' then cast(1 as double) else cast(0 as double) end)
            as negative_share,
        sum(case when nps_class = 'detractor' then 1 else 0 end) as detractor_mentions,
        sum(case when nps_class = 'promoter' then 1 else 0 end) as promoter_mentions
    from mentions
    group by theme

),

final as (

    select
        by_theme.theme,
        cast(by_theme.comments as integer) as comments,
        cast(by_theme.survey_comments as integer) as survey_comments,
        cast(by_theme.ticket_comments as integer) as ticket_comments,
        by_theme.average_sentiment,
        by_theme.negative_share,
        cast(by_theme.detractor_mentions as integer) as detractor_mentions,
        cast(by_theme.promoter_mentions as integer) as promoter_mentions,
        case when class_totals.detractor_comments > 0
            then cast(by_theme.detractor_mentions as double) / class_totals.detractor_comments end
            as detractor_share,
        case when class_totals.promoter_comments > 0
            then cast(by_theme.promoter_mentions as double) / class_totals.promoter_comments end
            as promoter_share
    from by_theme
    cross join class_totals

)

select * from final
