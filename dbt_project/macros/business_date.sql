{#- The business time zone (var kizuna__timezone, from config/settings.yml business.timezone):
    journeys, cohorts and KPIs count business days, contact times business hours.
    business_time: the wall-clock time in that zone of a UTC timestamp. A UTC value stored without
    a zone (person_events.occurred_at) is made UTC-aware first (utc_aware): DuckDB's timezone()
    would read it as local time in the zone. business_date: its calendar day. -#}
{% macro business_time(column) -%}
    {{ return(adapter.dispatch('business_time', 'kizuna')(column)) }}
{%- endmacro %}

{% macro default__business_time(column) -%}
    timezone('{{ var("kizuna__timezone") }}', {{ utc_aware(column) }})
{%- endmacro %}

{% macro spark__business_time(column) -%}
    from_utc_timestamp({{ column }}, '{{ var("kizuna__timezone") }}')
{%- endmacro %}

{% macro business_date(column) -%}
    cast({{ business_time(column) }} as date)
{%- endmacro %}
