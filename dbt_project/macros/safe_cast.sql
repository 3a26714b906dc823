{#- dbt-duckdb 1.11 falls back to a plain cast, which errors on bad input: try_cast returns null,
    as safe_cast does on the other engines. -#}
{% macro duckdb__safe_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}
