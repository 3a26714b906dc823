{#- True when `column` matches the regular expression `pattern` (RE2 on DuckDB, Java on Spark: keep
    to the syntax both share, e.g. \x{30A0} for a code point). -#}
{% macro matches_regex(column, pattern) -%}
    {{ return(adapter.dispatch('matches_regex', 'kizuna')(column, pattern)) }}
{%- endmacro %}

{% macro default__matches_regex(column, pattern) -%}
    regexp_matches({{ column }}, '{{ pattern }}')
{%- endmacro %}

{#- Spark SQL unescapes backslashes in string literals ('\x' reads as 'x'), DuckDB does not: each
    backslash of the pattern is doubled so that Java's regex sees the same pattern RE2 does. -#}
{% macro spark__matches_regex(column, pattern) -%}
    ({{ column }} rlike '{{ pattern | replace("\\", "\\\\") }}')
{%- endmacro %}
