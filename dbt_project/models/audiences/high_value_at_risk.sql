{#- A SQL audience (tagged `audience` in dbt_project.yml): customers in the top three tenths of
    lifetime value whom the churn model also puts in its top three tenths, without an open support
    ticket (valuable customers seldom look likely to leave, hence the wide bands). Analysts add
    audiences like this one; each becomes an asset `act/audiences/<model name>` and can be synced
    like any declarative audience. -#}

select person_id
from {{ ref('audience_profiles') }}
where lifetime_value_decile <= 3
    and churn_decile <= 3
    and coalesce(open_tickets, 0) = 0
