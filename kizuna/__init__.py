"""Kizuna core: what the Dagster assets, the command line and (later) the real-time service share."""
