{#- Which themes drive detractors: among survey comments, the share of detractors' comments naming
    a theme against the share of everyone else's (passives and promoters). The lift adds half a
    comment to each count (Jeffreys' prior), so a theme no non-detractor named still gets a finite,
    comparable lift instead of a division by zero. -#}

with

responses as (

    select * from {{ ref('nps_responses') }}
    where has_comment

),

comment_themes as (

    select * from {{ source('voice', 'comment_themes') }}
    where source = 'survey_responses'

),

totals as (

    select
        sum(case when nps_class = 'detractor' then 1 else 0 end) as detractor_comments,
        sum(case when nps_class <> 'detractor' then 1 else 0 end) as other_comments
    from responses

),

by_theme as (

    select
        comment_themes.theme,
        sum(case when responses.nps_class = 'detractor' then 1 else 0 end) as detractor_mentions,
        sum(case when responses.nps_class <> 'detractor' then 1 else 0 end) as other_mentions
    from comment_themes
    inner join responses
        on responses.response_id = comment_themes.record_id
    group by comment_themes.theme

),

scored as (

    select
        by_theme.theme,
        by_theme.detractor_mentions,
        by_theme.other_mentions,
        totals.detractor_comments,
        totals.other_comments,
        -- Divisions of doubles on every engine (Spark keeps 1.0 * ... / ... a decimal).
        case when totals.detractor_comments > 0
            then cast(by_theme.detractor_mentions as double) / totals.detractor_comments end
            as share_among_detractors,
        case when totals.other_comments > 0
            then cast(by_theme.other_mentions as double) / totals.other_comments end as share_among_others,
        ((cast(by_theme.detractor_mentions as double) + 0.5) / (cast(totals.detractor_comments as double) + 1.0))
            / ((cast(by_theme.other_mentions as double) + 0.5) / (cast(totals.other_comments as double) + 1.0))
            as lift
    from by_theme
    cross join totals

),

final as (

    select
        theme,
        cast(detractor_mentions as integer) as detractor_mentions,
        cast(other_mentions as integer) as other_mentions,
        cast(detractor_comments as integer) as detractor_comments,
        cast(other_comments as integer) as other_comments,
        share_among_detractors,
        share_among_others,
        lift,
        cast(row_number() over (order by lift desc, detractor_mentions desc, theme) as integer) as driver_rank
    from scored

)

select * from final
