{#- The profile rules of config/profile.yml (passed as dbt vars), with the safe defaults when a
    build runs without them: every attribute `most_recent`, every consent purpose opt-in. -#}
{% macro survivorship_rule(attribute, default_sources) -%}
    {%- set rule = var('kizuna__survivorship', {}).get(attribute, {}) -%}
    {%- set kind = rule.get('rule', 'most_recent') -%}
    {%- if kind not in ['most_recent', 'source_priority'] -%}
        {{ exceptions.raise_compiler_error("config/profile.yml: kizuna__survivorship." ~ attribute ~ ".rule must be most_recent or source_priority, not " ~ kind) }}
    {%- endif -%}
    {%- set sources = rule.get('sources', default_sources) -%}
    {%- for source in sources if source not in default_sources -%}
        {{ exceptions.raise_compiler_error("config/profile.yml: kizuna__survivorship." ~ attribute ~ ".sources: unknown source " ~ source) }}
    {%- endfor -%}
    {{ return({'rule': kind, 'sources': sources}) }}
{%- endmacro %}

{% macro consent_is_opt_in(purpose) -%}
    {%- set consent = var('kizuna__consent', {}) -%}
    {{ return(purpose in consent.get('opt_in', [purpose])) }}
{%- endmacro %}
