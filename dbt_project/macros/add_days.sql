{#- A timestamp moved by a whole number of days, to the microsecond on every engine. dbt.dateadd on
    Spark rebuilds the time of day from unix seconds, so it drops the fraction of a second (an event
    within that second of a window's edge would count on Spark and not on DuckDB). Elsewhere it is
    dbt.dateadd. Both profiles run in UTC, so a day is 24 hours. -#}
{% macro add_days(column, days) -%}
    {{ return(adapter.dispatch('add_days', 'kizuna')(column, days)) }}
{%- endmacro %}

{% macro default__add_days(column, days) -%}
    {{ dbt.dateadd('day', days, column) }}
{%- endmacro %}

{% macro spark__add_days(column, days) -%}
    timestampadd(DAY, {{ days }}, {{ column }})
{%- endmacro %}
