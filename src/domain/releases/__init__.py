"""Releases and deployments: which version of which service is released, and where it
runs. A bounded context of its own; it knows nothing of accounts."""
