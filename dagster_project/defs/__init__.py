"""One folder per domain; each exposes `defs`, merged in `dagster_project/definitions.py`."""
