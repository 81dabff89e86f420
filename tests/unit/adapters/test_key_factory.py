"""CryptographyKeyFactory and the JWK helpers: key sizes, PEM form, RFC 7638 kids."""

from datetime import UTC, datetime

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from adapters.crypto.key_factory import (
    CryptographyKeyFactory,
    jwk_thumbprint,
    signing_key_from_private_key,
)
from domain.tokens.signing_keys import KeyAlgorithm

NOW = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def factory() -> CryptographyKeyFactory:
    return CryptographyKeyFactory()


def test_rfc_7638_example_thumbprint() -> None:
    # RFC 7638 §3.1, the worked example.
    n = (
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJE"
        "CPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2"
        "QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQF"
        "h6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
    )
    jwk = {"kty": "RSA", "n": n, "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"}
    assert jwk_thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_rfc_8037_example_thumbprint() -> None:
    # RFC 8037 Appendix A.3: the Ed25519 key's thumbprint.
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    assert jwk_thumbprint(jwk) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_rs256_keys_are_rsa_2048_in_pkcs8_with_a_thumbprint_kid(
    factory: CryptographyKeyFactory,
) -> None:
    key = factory.generate(KeyAlgorithm.RS256, now=NOW)
    assert key.private_material.startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS#8
    private = serialization.load_pem_private_key(key.private_material, password=None)
    assert isinstance(private, rsa.RSAPrivateKey)
    assert private.key_size == 2048
    assert private.public_key().public_numbers().e == 65537
    assert key.public_jwk is not None
    assert set(key.public_jwk) == {"kty", "n", "e", "kid", "alg", "use"}
    assert key.public_jwk["kty"] == "RSA"
    assert key.public_jwk["e"] == "AQAB"
    assert (key.public_jwk["alg"], key.public_jwk["use"]) == ("RS256", "sig")
    assert key.kid == key.public_jwk["kid"] == jwk_thumbprint(key.public_jwk)
    assert (key.created_at, key.retired_at) == (NOW, None)


def test_eddsa_keys_are_ed25519_okp(factory: CryptographyKeyFactory) -> None:
    key = factory.generate(KeyAlgorithm.EDDSA, now=NOW)
    private = serialization.load_pem_private_key(key.private_material, password=None)
    assert isinstance(private, ed25519.Ed25519PrivateKey)
    assert key.public_jwk is not None
    assert set(key.public_jwk) == {"kty", "crv", "x", "kid", "alg", "use"}
    assert (key.public_jwk["kty"], key.public_jwk["crv"]) == ("OKP", "Ed25519")
    assert (key.public_jwk["alg"], key.public_jwk["use"]) == ("EdDSA", "sig")
    assert key.kid == jwk_thumbprint(key.public_jwk)


def test_hs256_keys_are_32_random_bytes_with_a_random_kid_and_no_jwk(
    factory: CryptographyKeyFactory,
) -> None:
    keys = [factory.generate(KeyAlgorithm.HS256, now=NOW) for _ in range(5)]
    assert all(len(k.private_material) == 32 and k.public_jwk is None for k in keys)
    assert len({k.kid for k in keys}) == 5
    assert len({k.private_material for k in keys}) == 5
    assert all(k.private_material.hex() not in k.kid for k in keys)


@pytest.mark.parametrize("algorithm", [KeyAlgorithm.RS256, KeyAlgorithm.EDDSA])
def test_pyjwt_loads_the_public_jwk_and_verifies_what_the_private_key_signed(
    factory: CryptographyKeyFactory, algorithm: KeyAlgorithm
) -> None:
    key = factory.generate(algorithm, now=NOW)
    assert key.public_jwk is not None
    token = jwt.encode({"x": 1}, key.private_material, algorithm=str(algorithm))
    public = jwt.PyJWK(key.public_jwk)
    assert public.key_id == key.kid
    assert public.algorithm_name == str(algorithm)
    assert jwt.decode(token, public, algorithms=[str(algorithm)]) == {"x": 1}


def test_the_same_key_always_gets_the_same_kid() -> None:
    private = ed25519.Ed25519PrivateKey.generate()
    first = signing_key_from_private_key(private, created_at=NOW)
    again = signing_key_from_private_key(private, created_at=NOW)
    assert first.kid == again.kid
    assert first.public_jwk == again.public_jwk


def test_other_key_types_and_short_rsa_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="unsupported key type"):
        signing_key_from_private_key(ec.generate_private_key(ec.SECP256R1()), created_at=NOW)
    short = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - the refusal under test
    with pytest.raises(ValueError, match="2048"):
        signing_key_from_private_key(short, created_at=NOW)
