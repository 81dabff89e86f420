"""Entrypoints: the HTTP app, the command line and the composition root that wires them."""
