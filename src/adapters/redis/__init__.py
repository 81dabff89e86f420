"""Redis adapters: the shared revocation store and the client factory."""
