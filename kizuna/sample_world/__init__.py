"""The sample world: a Japanese retail brand's customers, simulated, with landing files and truth.

`generate(customers, days, seed, landing, truth)` writes one file per arrival day per source into
the landing zone (conforming to `data_contracts/`, with stated mess) and the ground truth
(persons, identifiers, journey stages, churn, channel effects, offers, mess counts) into a
separate folder that the pipeline never reads.
"""

from kizuna.sample_world.world import DEFAULT_START, SourceSummary, WorldSummary, generate

__all__ = ["DEFAULT_START", "SourceSummary", "WorldSummary", "generate"]
