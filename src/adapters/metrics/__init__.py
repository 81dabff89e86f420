"""Adapters that export to Prometheus."""
