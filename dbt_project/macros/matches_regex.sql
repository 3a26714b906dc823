{#- True when `column` matches the regular expression `pattern` (RE2 on DuckDB, Java on Spark: keep
    to the syntax both share, e.g. \x{30A0} for a code point). -#}
{% macro matches_regex(column, pattern) -%}
    {{ return(adapter.dispatch('matches_regex', 'kizuna')(column, pattern)) }}
{%- endmacro %}

{% macro default__matches_regex(column, pattern) -%}
    regexp_matches({{ column }}, '{{ pattern }}')
{%- endmacro %}

{% macro spark__matches_regex(column, pattern) -%}
    ({{ column }} rlike '{{ pattern }}')
{%- endmacro %}
