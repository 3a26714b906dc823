{#- The text of one field of a JSON document stored as text (the Segment context, properties and
    traits of events), or null when absent. `path` is a JSONPath such as '$.device.id'. -#}
{% macro json_text(column, path) -%}
    {{ return(adapter.dispatch('json_text', 'kizuna')(column, path)) }}
{%- endmacro %}

{% macro default__json_text(column, path) -%}
    json_extract_string({{ column }}, '{{ path }}')
{%- endmacro %}

{% macro spark__json_text(column, path) -%}
    get_json_object({{ column }}, '{{ path }}')
{%- endmacro %}
