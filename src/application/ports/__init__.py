"""Ports: the interfaces use cases need, one `Protocol` per module. Adapters implement them."""
