{#- The hour of the week of a UTC timestamp in the business time zone (var kizuna__timezone):
    0 = Monday 00:00-00:59, 167 = Sunday 23:00-23:59. Best times to contact are hours of the
    customer's week, so they are read on the business clock. -#}
{% macro business_hour_of_week(column) -%}
    {{ return(adapter.dispatch('business_hour_of_week', 'kizuna')(column)) }}
{%- endmacro %}

{% macro default__business_hour_of_week(column) -%}
    ((cast(extract(isodow from {{ business_time(column) }}) as integer) - 1) * 24
        + cast(extract(hour from {{ business_time(column) }}) as integer))
{%- endmacro %}

{% macro spark__business_hour_of_week(column) -%}
    (pmod(dayofweek({{ business_time(column) }}) + 5, 7) * 24 + hour({{ business_time(column) }}))
{%- endmacro %}
