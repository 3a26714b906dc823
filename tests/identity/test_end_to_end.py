import pytest

from benchmarks.identity import score
from kizuna.identity import resolve
from kizuna.identity.observations import observations_from_landing
from kizuna.sample_world import generate


@pytest.mark.slow
def test_tiny_world_resolves_precisely_and_shared_values_merge_nobody(tmp_path, rules):
    generate(customers=300, days=30, seed=7, landing=str(tmp_path / "landing"), truth=str(tmp_path / "truth"))
    obs, attrs = observations_from_landing(str(tmp_path / "landing"))
    result = resolve(obs, rules, attributes=attrs)
    figures = score(result.identity_map, tmp_path / "truth", rules)
    assert figures["precision"] >= 0.99
    assert figures["false_merges_shared"] == 0
