"""Kizuna's Dagster code location: start reading at `definitions.py`."""
