"""Adapters that let other ecosystems use qa-service components."""
