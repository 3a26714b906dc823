{#- The distinct non-null values of `column` in a group, sorted and joined by `delimiter`; null when
    there are none. dbt.listagg's order is ignored on Spark, so the result would differ by engine. -#}
{% macro string_agg_sorted(column, delimiter=', ') -%}
    {{ return(adapter.dispatch('string_agg_sorted', 'kizuna')(column, delimiter)) }}
{%- endmacro %}

{% macro default__string_agg_sorted(column, delimiter) -%}
    string_agg(distinct {{ column }}, '{{ delimiter }}' order by {{ column }})
{%- endmacro %}

{% macro spark__string_agg_sorted(column, delimiter) -%}
    nullif(array_join(array_sort(collect_set({{ column }})), '{{ delimiter }}'), '')
{%- endmacro %}
