"""Settings every test shares."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def mlflow_outside_the_project(tmp_path_factory: pytest.TempPathFactory):
    """Models trained by a test are logged to a store of the test session's own, never to the
    project's data/mlflow (a test's fixture may still point KIZUNA_MLFLOW_DIR elsewhere)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KIZUNA_MLFLOW_DIR", str(tmp_path_factory.mktemp("mlflow")))
        mp.delenv("KIZUNA_MLFLOW_TRACKING_URI", raising=False)
        yield
