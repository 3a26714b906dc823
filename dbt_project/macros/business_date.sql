{#- The calendar day of a UTC timestamp in the business time zone (var kizuna__timezone, from
    config/settings.yml business.timezone): journeys, cohorts and KPIs count business days.
    A UTC value stored without a zone (person_events.occurred_at) is made UTC-aware first
    (utc_aware): DuckDB's timezone() would read it as local time in the zone. -#}
{% macro business_date(column) -%}
    {{ return(adapter.dispatch('business_date', 'kizuna')(column)) }}
{%- endmacro %}

{% macro default__business_date(column) -%}
    cast(timezone('{{ var("kizuna__timezone") }}', {{ utc_aware(column) }}) as date)
{%- endmacro %}

{% macro spark__business_date(column) -%}
    to_date(from_utc_timestamp({{ column }}, '{{ var("kizuna__timezone") }}'))
{%- endmacro %}
