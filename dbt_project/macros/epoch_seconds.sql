{#- Seconds since 1970-01-01 UTC of a timestamp, as a number: gaps between events compared in
    seconds mean the same on every engine (dbt.datediff counts boundaries on DuckDB, elapsed time
    on Spark). -#}
{% macro epoch_seconds(column) -%}
    {{ return(adapter.dispatch('epoch_seconds', 'kizuna')(column)) }}
{%- endmacro %}

{% macro default__epoch_seconds(column) -%}
    epoch({{ column }})
{%- endmacro %}

{% macro spark__epoch_seconds(column) -%}
    (unix_micros({{ column }}) / 1000000.0)
{%- endmacro %}
