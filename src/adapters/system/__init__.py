"""Adapters backed by the machine itself: wall clock, UUIDv7 ids."""
