"""Adapters that write to the structured log."""
