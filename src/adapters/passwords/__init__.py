"""Password adapters that need no service: the shipped common-password list."""
