{#- dbt-duckdb 1.11 and dbt-spark 1.11 fall back to a plain cast, which errors on bad input (on Spark 4
    too: ANSI mode is its default): try_cast returns null, as safe_cast does on the other engines. -#}
{% macro duckdb__safe_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}

{% macro spark__safe_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}
