{#- A UTC timestamp as a time-zone-aware value, whether stored with a zone (staging's event times)
    or without (person_events.occurred_at): DuckDB's timezone() reads a naive value as local time
    in the zone, which would move Tokyo hours and days 18 hours the wrong way. Both profiles run
    in UTC, so the cast reads a naive value as UTC; Spark's from_utc_timestamp already does. -#}
{% macro utc_aware(column) -%}
    {{ return(adapter.dispatch('utc_aware', 'kizuna')(column)) }}
{%- endmacro %}

{% macro default__utc_aware(column) -%}
    cast({{ column }} as timestamptz)
{%- endmacro %}

{% macro spark__utc_aware(column) -%}
    {{ column }}
{%- endmacro %}
