{#- A folder's `+schema` is the schema itself (staging, intermediate, marts), not
    <target schema>_<schema>: the identity module and later readers name these schemas directly. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
