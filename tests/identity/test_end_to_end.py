import pytest

from benchmarks.identity import identity_inputs, score
from kizuna.identity import resolve
from kizuna.identity.inputs import anchor_attributes
from kizuna.sample_world import generate


@pytest.mark.slow
def test_tiny_world_resolves_precisely_and_shared_values_merge_nobody(tmp_path, rules):
    generate(customers=300, days=30, seed=7, landing=str(tmp_path / "landing"), truth=str(tmp_path / "truth"))
    inputs, _ = identity_inputs(tmp_path / "landing", tmp_path)
    result = resolve(inputs.observations, rules, attributes=anchor_attributes(inputs.person_attributes))
    figures = score(result.identity_map, tmp_path / "truth", rules)
    assert figures["precision"] >= 0.99
    assert figures["false_merges_shared"] == 0
