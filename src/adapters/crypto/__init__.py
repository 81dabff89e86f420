"""Cryptography (pyca/cryptography): encryption of secrets at rest, key material."""
