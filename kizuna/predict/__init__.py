"""Predict: point-in-time features, propensity models, lifetime value, scores."""
