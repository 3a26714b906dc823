{#- The journey-stage rules of config/stages.yml (var kizuna__stages), with the defaults below when
    a build runs without the file or leaves a key out. kizuna/understand/stages.py checks the file
    before dbt runs; the compiler errors here catch what a hand-run build passes unchecked. -#}
{% macro stage_config() -%}
    {%- set defaults = {
        'signals': {
            'purchase': {'excluded_order_statuses': ['cancelled'], 'store': true},
            'consideration_events': ['Products Searched', 'Product List Viewed', 'Product Viewed', 'Product Added',
                                     'Product Removed', 'Cart Viewed', 'Coupon Applied', 'Checkout Started',
                                     'Checkout Step Completed', 'Payment Info Entered', 'Payment Failed',
                                     'Order Completed'],
            'promoter': {'nps_at_least': 9, 'review_events': ['Review Submitted'], 'review_rating_at_least': 4,
                         'referral_events': ['Referral Sent']},
            'activity': {'events': 'any', 'orders': 'any', 'pos_transactions': 'any', 'support_tickets': ['opened'],
                         'survey_responses': 'any'},
        },
        'rules': [
            {'stage': 'consideration', 'when': {'purchases': 0, 'consideration_within_days': 14}},
            {'stage': 'awareness', 'when': {'purchases': 0}},
            {'stage': 'purchase', 'when': {'purchase_within_days': 3}},
            {'stage': 'onboarding', 'when': {'purchases': 1, 'first_purchase_within_days': 30}},
            {'stage': 'advocacy', 'when': {'purchase_within_days': 45, 'promoter_within_days': 60}},
            {'stage': 'retention', 'when': {'purchase_within_days': 45}},
            {'stage': 'at_risk', 'when': {'activity_within_days': 120}},
            {'stage': 'lapsed', 'when': {}},
        ],
        'as_of': none,
        'start': 'window',
        'history_days': 365,
        'flow': {'stall_after_days': 30, 'moves_on_into': ['purchase'],
                 'rank': {'lapsed': 0, 'at_risk': 1, 'awareness': 2, 'consideration': 3, 'purchase': 4,
                          'onboarding': 4, 'retention': 4, 'advocacy': 5}},
    } -%}
    {%- set given = var('kizuna__stages', {}) or {} -%}
    {%- set merged = {} -%}
    {%- for key, value in defaults.items() -%}
        {%- if key in ['signals', 'flow'] -%}
            {%- set part = value.copy() -%}
            {%- do part.update(given.get(key) or {}) -%}
            {%- do merged.update({key: part}) -%}
        {%- else -%}
            {%- do merged.update({key: given.get(key, value)}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(merged) }}
{%- endmacro %}

{#- A SQL list of quoted names, for `in (...)`; a name never holds a quote (the config check). -#}
{% macro stage_names_sql(names) -%}
    {%- if names | length == 0 -%}
        cast(null as {{ dbt.type_string() }})
    {%- else -%}
        {%- for name in names -%}'{{ name }}'{{ ", " if not loop.last }}{%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{#- One condition of a stage rule as SQL over the columns of person_stage_days' `state` CTE:
    day_number, purchase_days, first_purchase_day, last_purchase_day, last_consideration_day,
    last_promoter_day, last_activity_day (day numbers; null when never). -#}
{% macro stage_condition(name, value) -%}
    {%- set windows = {
        'purchase_within_days': 'last_purchase_day',
        'first_purchase_within_days': 'first_purchase_day',
        'consideration_within_days': 'last_consideration_day',
        'promoter_within_days': 'last_promoter_day',
        'activity_within_days': 'last_activity_day',
    } -%}
    {%- set absences = {'no_purchase_within_days': 'last_purchase_day', 'no_activity_within_days': 'last_activity_day'} -%}
    {%- if value is not number or value is sameas true or value is sameas false -%}
        {{ exceptions.raise_compiler_error("config/stages.yml: kizuna__stages.rules: " ~ name ~ " must be a whole number, not " ~ value) }}
    {%- elif name == 'purchases' -%}
        purchase_days = {{ value }}
    {%- elif name == 'purchases_at_least' -%}
        purchase_days >= {{ value }}
    {%- elif name in windows -%}
        day_number - {{ windows[name] }} < {{ value }}
    {%- elif name in absences -%}
        ({{ absences[name] }} is null or day_number - {{ absences[name] }} >= {{ value }})
    {%- else -%}
        {{ exceptions.raise_compiler_error("config/stages.yml: kizuna__stages.rules: unknown condition " ~ name) }}
    {%- endif -%}
{%- endmacro %}

{#- The stage of a person-day: the first rule whose conditions all hold. A `day_number - null`
    comparison is null, so a window over a signal the person never had does not hold. -#}
{% macro stage_case(rules) -%}
    {%- set known = ['awareness', 'consideration', 'purchase', 'onboarding', 'retention', 'advocacy', 'at_risk', 'lapsed'] -%}
    {%- if rules | length == 0 or rules[-1].get('when') -%}
        {{ exceptions.raise_compiler_error("config/stages.yml: kizuna__stages.rules: the last rule must have no conditions (when: {})") }}
    {%- endif -%}
    case
    {%- for rule in rules %}
        {%- if rule.get('stage') not in known -%}
            {{ exceptions.raise_compiler_error("config/stages.yml: kizuna__stages.rules: unknown stage " ~ rule.get('stage')) }}
        {%- endif -%}
        {%- if not loop.last %}
        when {% for name, value in rule.get('when', {}).items() %}{{ stage_condition(name, value) }}{{ " and " if not loop.last }}{% endfor %} then '{{ rule["stage"] }}'
        {%- else %}
        else '{{ rule["stage"] }}'
        {%- endif %}
    {%- endfor %}
    end
{%- endmacro %}

{#- True when a change from stage `from_column` to `to_column` moves on (config/stages.yml flow): into a
    stage of `moves_on_into` (a purchase is progress from any stage), or to a stage of the same or a
    higher rank; false when it drops back. -#}
{% macro stage_moves_on(from_column, to_column, flow) -%}
    {%- set rank = flow.get('rank', {}) -%}
    {%- set into = flow.get('moves_on_into', []) -%}
    ({%- if into | length > 0 %}{{ to_column }} in ({{ stage_names_sql(into) }}) or {% endif -%}
    (case
        {%- for stage, value in rank.items() %}
        when {{ to_column }} = '{{ stage }}' then {{ value }}
        {%- endfor %}
    end) >= (case
        {%- for stage, value in rank.items() %}
        when {{ from_column }} = '{{ stage }}' then {{ value }}
        {%- endfor %}
    end))
{%- endmacro %}
