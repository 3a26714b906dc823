"""Audiences: rules over the profile and recent events, shared by batch and real-time."""
