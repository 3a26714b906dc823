{#- The calendar day of a UTC timestamp in the business time zone (var kizuna__timezone, from
    config/settings.yml business.timezone): journeys, cohorts and KPIs count business days. -#}
{% macro business_date(column) -%}
    {{ return(adapter.dispatch('business_date', 'kizuna')(column)) }}
{%- endmacro %}

{% macro default__business_date(column) -%}
    cast(timezone('{{ var("kizuna__timezone") }}', {{ column }}) as date)
{%- endmacro %}

{% macro spark__business_date(column) -%}
    to_date(from_utc_timestamp({{ column }}, '{{ var("kizuna__timezone") }}'))
{%- endmacro %}
