"""Adapters: the technology behind each application port, grouped by technology."""
