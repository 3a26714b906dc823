"""Fixtures of the collect tests: the project's own PostgreSQL (scripts/postgres.sh)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_SCRIPT = ROOT / "scripts" / "postgres.sh"


@pytest.fixture(scope="session")
def crm_dsn() -> str:
    """Start (or find running) the local PostgreSQL once per session; its DSN.

    When the script cannot provide a server the PostgreSQL tests are skipped with its message,
    except under CI=true, where they fail.
    """
    try:
        proc = subprocess.run(["bash", str(POSTGRES_SCRIPT)], capture_output=True, text=True, timeout=900, check=False)
        code, out, err = proc.returncode, proc.stdout, proc.stderr
    except (OSError, subprocess.TimeoutExpired) as exc:
        code, out, err = None, "", f"{POSTGRES_SCRIPT.name} did not run: {exc}"
    lines = [line for line in out.splitlines() if line.strip()]
    if code == 0 and lines:
        return lines[-1].strip()
    messages = [line for line in err.splitlines() if line.strip()]
    reason = messages[-1] if messages else f"{POSTGRES_SCRIPT.name} failed (exit {code})"
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL is required under CI=true: {reason}\n{err}", pytrace=False)
    pytest.skip(f"no PostgreSQL: {reason}")
