"""Collect: connectors that bring every source into the warehouse under its data contract."""
