from abc import abstractmethod
from datetime import datetime
from typing import Protocol

from domain.tokens.signing_keys import KeyAlgorithm, SigningKey


class KeyFactory(Protocol):
    """Creates a fresh signing key for `algorithm`, created at `now` and not retired.

    The `kid` of an asymmetric key is its RFC 7638 JWK thumbprint (so every instance
    derives the same id from the same key); a symmetric key gets a random id, since a
    thumbprint of a secret would be a digest of that secret. `public_jwk` carries `kid`,
    `alg` and `use: sig` for asymmetric keys and is None for symmetric ones.

    Generation is CPU work (RSA takes tens of milliseconds): callers on the event loop
    run it in a worker thread. Pure: no storage, no I/O.
    """

    @abstractmethod
    def generate(self, algorithm: KeyAlgorithm, *, now: datetime) -> SigningKey: ...
