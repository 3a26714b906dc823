"""Identity resolution (名寄せ): normalization, rules, graph, stable ids; shared by batch and stream.

    from kizuna.identity import load_rules, resolve
    result = resolve(observations, load_rules(), previous=last_identity_map, extra_edges=splink_pairs)
"""

from kizuna.identity.resolve import MAP_COLUMNS, OBSERVATION_COLUMNS, Resolution, prepare_observations, resolve
from kizuna.identity.rules import IdentityConfigError, IdentityRules, load_rules, parse_rules

__all__ = [
    "MAP_COLUMNS",
    "OBSERVATION_COLUMNS",
    "IdentityConfigError",
    "IdentityRules",
    "Resolution",
    "load_rules",
    "parse_rules",
    "prepare_observations",
    "resolve",
]
