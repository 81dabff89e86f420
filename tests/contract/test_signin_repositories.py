"""Contracts of `AuthorizationCodeRepository` and `ConsentRepository`, and of the OpenID
fields of `ServiceClientRepository`, identical on every adapter."""

import uuid
from dataclasses import replace
from datetime import timedelta

import pytest

from application.errors import ConflictError
from domain.identity.user import User
from domain.signin.authorization import AuthorizationCode, Consent
from domain.signin.external import ExternalIdentity
from tests.contract.persistence import (
    PLUS_TWO,
    T0,
    Backend,
    backend_fixture,  # noqa: F401
    database_url_fixture,  # noqa: F401
    make_service_client,
    make_user,
    store_users,
)


def make_code(user: User, **fields: object) -> AuthorizationCode:
    values: dict[str, object] = {
        "code_hash": uuid.uuid4().hex * 2,
        "client_id": "hxc_0123456789abcdef",
        "user_id": user.id,
        "redirect_uri": "https://rp.example/callback?x=1",
        "scopes": ("openid", "email"),
        "nonce": "n-1",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "auth_time": T0.astimezone(PLUS_TWO),
        "created_at": T0,
        "expires_at": T0 + timedelta(minutes=1),
        **fields,
    }
    return AuthorizationCode(**values)  # type: ignore[arg-type]


def same_code(a: AuthorizationCode | None, b: AuthorizationCode) -> bool:
    return a is not None and vars(a) == vars(b)


async def test_a_code_reads_back_field_for_field_and_updates_once_redeemed(
    backend: Backend,
) -> None:
    user = make_user("alice")
    await store_users(backend, user)
    code = make_code(user)
    bare = make_code(user, nonce=None, scopes=())
    async with backend.new_uow() as uow:
        await uow.authorization_codes.add(code)
        await uow.authorization_codes.add(bare)
        await uow.commit()

    async with backend.new_uow() as uow:
        found = await uow.authorization_codes.get(code.code_hash, for_update=True)
        assert same_code(await uow.authorization_codes.get(bare.code_hash), bare)
        assert await uow.authorization_codes.get("0" * 64) is None
        assert same_code(found, code)
        assert found is not None
        assert found.auth_time.utcoffset() == timedelta(0)
        session_id = uuid.uuid4()
        found.redeem(now=T0 + timedelta(seconds=5), session_id=session_id)
        await uow.authorization_codes.update(found)
        await uow.commit()

    async with backend.new_uow() as uow:
        redeemed = await uow.authorization_codes.get(code.code_hash)
    assert redeemed is not None
    assert redeemed.used_at == T0 + timedelta(seconds=5)
    assert redeemed.issued_session_id == session_id


async def test_an_uncommitted_code_leaves_no_trace(backend: Backend) -> None:
    user = make_user("alice")
    await store_users(backend, user)
    code = make_code(user)
    async with backend.new_uow() as uow:
        await uow.authorization_codes.add(code)
    async with backend.new_uow() as uow:
        assert await uow.authorization_codes.get(code.code_hash) is None


async def test_consents_are_one_per_user_and_client_newest_first(backend: Backend) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    await store_users(backend, alice, bob)
    first = Consent(
        user_id=alice.id, client_id="hxc_a", scopes=frozenset({"openid"}), granted_at=T0
    )
    second = Consent(
        user_id=alice.id,
        client_id="hxc_b",
        scopes=frozenset({"openid", "email"}),
        granted_at=T0 + timedelta(hours=1),
    )
    bobs = Consent(user_id=bob.id, client_id="hxc_a", scopes=frozenset({"openid"}), granted_at=T0)
    async with backend.new_uow() as uow:
        for consent in (first, second, bobs):
            await uow.consents.put(consent)
        await uow.commit()

    async with backend.new_uow() as uow:
        mine = await uow.consents.list_for_user(alice.id)
        assert [(c.client_id, c.scopes) for c in mine] == [
            ("hxc_b", second.scopes),
            ("hxc_a", first.scopes),
        ]
        widened = replace(first, scopes=frozenset({"openid", "profile"}), _events=[])
        await uow.consents.put(widened)
        await uow.consents.delete(alice.id, "hxc_b")
        await uow.consents.delete(alice.id, "hxc_missing")  # nothing to do, no error
        await uow.commit()

    async with backend.new_uow() as uow:
        found = await uow.consents.get(alice.id, "hxc_a")
        assert await uow.consents.get(alice.id, "hxc_b") is None
        assert [c.client_id for c in await uow.consents.list_for_user(bob.id)] == ["hxc_a"]
    assert found is not None
    assert found.scopes == frozenset({"openid", "profile"})
    assert found.granted_at == T0


async def test_a_client_keeps_its_openid_registration(backend: Backend) -> None:
    plain = make_service_client()
    oidc = replace(
        make_service_client(),
        redirect_uris=("https://rp.example/b", "https://rp.example/a"),
        grant_types=frozenset({"authorization_code", "refresh_token"}),
        token_endpoint_auth_method="none",
        first_party=True,
        _events=[],
    )
    async with backend.new_uow() as uow:
        await uow.clients.add(plain)
        await uow.clients.add(oidc)
        await uow.commit()
    async with backend.new_uow() as uow:
        found_plain = await uow.clients.get(plain.client_id)
        found = await uow.clients.get(oidc.client_id)
    assert found_plain is not None
    assert found_plain.grant_types == frozenset({"client_credentials"})
    assert found_plain.token_endpoint_auth_method == "client_secret_basic"
    assert found_plain.redirect_uris == ()
    assert found_plain.first_party is False
    assert found is not None
    assert found.redirect_uris == ("https://rp.example/b", "https://rp.example/a")  # order kept
    assert found.grant_types == oidc.grant_types
    assert found.token_endpoint_auth_method == "none"
    assert found.first_party is True


async def test_external_identity_links_are_unique_and_listed_per_user(backend: Backend) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    await store_users(backend, alice, bob)
    first = ExternalIdentity(
        provider="corp", subject="s-1", user_id=alice.id, email="a@corp.example", linked_at=T0
    )
    second = ExternalIdentity(
        provider="other",
        subject="s-1",
        user_id=alice.id,
        email=None,
        linked_at=(T0 + timedelta(hours=1)).astimezone(PLUS_TWO),
    )
    async with backend.new_uow() as uow:
        await uow.external_identities.add(first)
        await uow.external_identities.add(second)
        await uow.commit()

    async with backend.new_uow() as uow:
        with pytest.raises(ConflictError):
            await uow.external_identities.add(
                ExternalIdentity(
                    provider="corp", subject="s-1", user_id=bob.id, email=None, linked_at=T0
                )
            )
        found = await uow.external_identities.get("corp", "s-1")
        assert await uow.external_identities.get("corp", "s-2") is None
        listed = await uow.external_identities.list_for_user(alice.id)
        assert await uow.external_identities.list_for_user(bob.id) == []
    assert found is not None
    assert (found.user_id, found.email, found.linked_at) == (alice.id, "a@corp.example", T0)
    assert [(i.provider, i.linked_at) for i in listed] == [
        ("corp", T0),
        ("other", T0 + timedelta(hours=1)),
    ]

    async with backend.new_uow() as uow:
        await uow.external_identities.delete("corp", "s-1")
        await uow.external_identities.delete("corp", "missing")
        await uow.commit()
    async with backend.new_uow() as uow:
        assert [i.provider for i in await uow.external_identities.list_for_user(alice.id)] == [
            "other"
        ]
