#!/usr/bin/env bash
# The test command of `make test` and CI: lint, definitions check, PostgreSQL, pytest.
# pytest's exit code 5 ("no tests collected") is reported as a failure, never as a silent pass.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${VENV:-.venv}/bin

"$BIN/ruff" check . || exit 1
"$BIN/kizuna" dagster-home >/dev/null || exit 1   # the project's Dagster instance folder (DAGSTER_HOME)
"$BIN/dagster" definitions validate -m dagster_project.definitions >/tmp/kizuna-defs-validate.log 2>&1 || {
    cat /tmp/kizuna-defs-validate.log; echo "dagster definitions do not load"; exit 1; }

if pg_msg=$(scripts/postgres.sh 2>&1); then
    echo "$pg_msg" | tail -n 1
    export KIZUNA_TEST_PG_READY=1
else
    echo "$pg_msg" | tail -n 5
    echo "PostgreSQL could not be started: its tests will be skipped (they fail under CI=true)."
fi

"$BIN/python" -m pytest "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
    echo "pytest collected no tests: that is a failure, not a pass." >&2
    exit 1
fi
exit "$rc"
