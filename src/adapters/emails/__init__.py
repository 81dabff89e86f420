"""Email addresses: their one canonical form."""
