"""Contract of `UserRepository`, identical on every adapter."""

import asyncio
from datetime import timedelta
from uuid import UUID

import pytest

from application.errors import EmailAlreadyRegisteredError, UsernameTakenError
from application.ports.audit_log import AuditFilter
from application.ports.user_repository import ListedUser, UserFilter
from domain.access.roles import Role, UnknownRoleError
from domain.audit.entries import Outcome
from domain.identity.value_objects import Email, FullName, Username
from tests.contract.persistence import (
    PLUS_TWO,
    T0,
    Backend,
    assert_same_fields,
    backend_fixture,  # noqa: F401
    database_url_fixture,  # noqa: F401
    make_api_key,
    make_audit_event,
    make_one_time_token,
    make_role,
    make_session,
    make_token,
    make_user,
    sequential_ids,
    store_roles,
    store_sessions,
    store_users,
)

EVERYTHING = UserFilter()


async def test_a_stored_user_reads_back_field_for_field(backend: Backend) -> None:
    user = make_user("alice", full_name="Alice Liddell", roles=frozenset({Role.ADMIN, Role.USER}))
    user.oauth_provider = "github"
    user.is_verified = True
    user.created_at = T0.astimezone(PLUS_TWO)
    user.updated_at = T0 + timedelta(seconds=1)
    user.last_login_at = (T0 + timedelta(hours=1)).astimezone(PLUS_TWO)
    user.failed_logins = 3
    user.locked_until = (T0 + timedelta(minutes=15)).astimezone(PLUS_TWO)
    user.lockouts = 2
    plain = make_user("bob")  # every optional field empty
    await store_users(backend, user, plain)

    async with backend.new_uow() as uow:
        by_id = await uow.users.get(user.id)
        by_email = await uow.users.get_by_email(Email("ALICE@example.com"))
        by_username = await uow.users.get_by_username(Username("alice"))
        plain_again = await uow.users.get(plain.id)

    for found in (by_id, by_email, by_username):
        assert found is not None
        assert_same_fields(user, found)
        assert found.pull_events() == []
    assert plain_again is not None
    assert_same_fields(plain, plain_again)


async def test_a_listed_user_shows_the_stored_fields(backend: Backend) -> None:
    user = make_user("alice", full_name="Alice Liddell", roles=frozenset({Role.USER, Role.ADMIN}))
    user.oauth_provider = "github"
    user.is_verified = True
    user.created_at = T0.astimezone(PLUS_TWO)
    user.updated_at = T0 + timedelta(seconds=1, microseconds=7)
    user.last_login_at = (T0 + timedelta(hours=1)).astimezone(PLUS_TWO)
    user.locked_until = (T0 + timedelta(minutes=15)).astimezone(PLUS_TWO)
    plain = make_user("bob", roles=frozenset(), is_active=False)  # every optional field empty
    await store_users(backend, user, plain)

    async with backend.new_uow() as uow:
        listed = await uow.users.list(filter=EVERYTHING, after=None, limit=10)

    assert sorted(listed) == sorted([ListedUser.of(user), ListedUser.of(plain)])
    alice = next(u for u in listed if u.id == user.id)
    assert alice.roles == ("admin", "user")  # sorted
    assert isinstance(alice.id, UUID)  # not the stored text
    assert alice.is_active is True  # not the stored 1
    assert alice.is_verified is True
    times = (alice.created_at, alice.updated_at, alice.last_login_at, alice.locked_until)
    assert all(t is not None and t.utcoffset() == timedelta(0) for t in times)  # in UTC


async def test_a_listing_sees_its_own_unit_of_works_writes(backend: Backend) -> None:
    await store_users(backend, make_user("alice"))
    async with backend.new_uow() as uow:
        await uow.users.add(make_user("bob"))
        listed = await uow.users.list(filter=UserFilter(q="bob"), after=None, limit=10)
    assert [u.username for u in listed] == ["bob"]


async def test_unknown_users_are_none(backend: Backend) -> None:
    await store_users(backend, make_user("alice"))
    async with backend.new_uow() as uow:
        assert await uow.users.get(make_user("ghost").id) is None
        assert await uow.users.get_by_email(Email("ghost@example.com")) is None
        assert await uow.users.get_by_username(Username("ghost")) is None


async def test_changes_count_only_once_passed_to_update(backend: Backend) -> None:
    user = make_user("alice", full_name="Alice", roles=frozenset({Role.ADMIN}))
    async with backend.new_uow() as uow:
        await uow.users.add(user)
        user.full_name = FullName("Changed after add")  # the stored copy must not follow
        await uow.commit()

    async with backend.new_uow() as uow:
        loaded = await uow.users.get(user.id)
        assert loaded is not None
        assert loaded.full_name == FullName("Alice")
        loaded.full_name = FullName("Not saved")
        await uow.commit()

    async with backend.new_uow() as uow:
        loaded = await uow.users.get(user.id)
        assert loaded is not None
        assert loaded.full_name == FullName("Alice")
        loaded.update(
            now=T0 + timedelta(minutes=5),
            email=Email("alice@new.example.com"),
            clear_full_name=True,
            roles=frozenset({Role.USER}),
            is_active=False,
        )
        await uow.users.update(loaded)
        await uow.commit()

    async with backend.new_uow() as uow:
        saved = await uow.users.get(user.id)
        assert await uow.users.get_by_email(Email("alice@example.com")) is None
    assert saved is not None
    assert_same_fields(loaded, saved)
    assert saved.roles == frozenset({Role.USER})
    assert saved.full_name is None
    assert saved.updated_at == T0 + timedelta(minutes=5)


async def test_plain_changes_and_renames_in_one_unit_all_land(backend: Backend) -> None:
    # A rename, then a change of plain fields only, then a rename that also puts a plain
    # field back: each write must start from what the previous one stored.
    user = make_user("alice", full_name="Alice")
    await store_users(backend, user)
    async with backend.new_uow() as uow:
        loaded = await uow.users.get(user.id, for_update=True)
        assert loaded is not None
        loaded.email = Email("alice@renamed.example.com")
        await uow.users.update(loaded)
        loaded.full_name = FullName("Plain")
        loaded.failed_logins = 3
        await uow.users.update(loaded)
        loaded.username = Username("alice2")
        loaded.full_name = FullName("Alice")
        await uow.users.update(loaded)
        await uow.commit()

    async with backend.new_uow() as uow:
        saved = await uow.users.get(user.id)
    assert saved is not None
    assert (saved.email, saved.username) == (
        Email("alice@renamed.example.com"),
        Username("alice2"),
    )
    assert saved.full_name == FullName("Alice")
    assert saved.failed_logins == 3


@pytest.mark.parametrize(
    ("clash", "error"),
    [
        ({"email": "ALICE@example.com"}, EmailAlreadyRegisteredError),
        ({"name": "alice", "email": "other@example.com"}, UsernameTakenError),
    ],
)
async def test_duplicate_identity_is_refused(
    backend: Backend, clash: dict[str, str], error: type[Exception]
) -> None:
    await store_users(backend, make_user("alice"))
    duplicate = make_user(clash.get("name", "mallory"), email=clash["email"])

    async def register() -> None:
        async with backend.new_uow() as uow:
            await uow.users.add(duplicate)
            await uow.commit()

    with pytest.raises(error):
        await register()

    async with backend.new_uow() as uow:
        assert await uow.users.get(duplicate.id) is None


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"email": Email("bob@example.com")}, EmailAlreadyRegisteredError),
        ({"username": Username("bob")}, UsernameTakenError),
    ],
)
async def test_update_to_a_taken_identity_is_refused(
    backend: Backend, change: dict[str, object], error: type[Exception]
) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    await store_users(backend, alice, bob)

    async def rename() -> None:
        async with backend.new_uow() as uow:
            loaded = await uow.users.get(alice.id)
            assert loaded is not None
            loaded.update(now=T0, **change)  # type: ignore[arg-type]
            await uow.users.update(loaded)
            await uow.commit()

    with pytest.raises(error):
        await rename()

    async with backend.new_uow() as uow:
        unchanged = await uow.users.get(alice.id)
    assert unchanged is not None
    assert_same_fields(alice, unchanged)


async def test_racing_registrations_of_one_email_admit_exactly_one(backend: Backend) -> None:
    contenders = [make_user(f"user{i}", email="same@example.com") for i in range(4)]

    async def register(user: object) -> str:
        try:
            async with backend.new_uow() as uow:
                await uow.users.add(user)  # type: ignore[arg-type]
                await asyncio.sleep(0)  # let the others reach the database meanwhile
                await uow.commit()
        except EmailAlreadyRegisteredError:
            return "refused"
        return "registered"

    outcomes = await asyncio.gather(*(register(u) for u in contenders))

    assert sorted(outcomes) == ["refused"] * 3 + ["registered"]
    async with backend.new_uow() as uow:
        listed = await uow.users.list(filter=EVERYTHING, after=None, limit=10)
    assert len(listed) == 1


async def test_list_pages_by_id_in_order(backend: Backend) -> None:
    users = [make_user(f"user{i}") for i in range(7)]
    await store_users(backend, *users)
    expected = sorted(u.id for u in users)

    pages: list[list[object]] = []
    after = None
    async with backend.new_uow() as uow:
        while True:
            page = await uow.users.list(filter=EVERYTHING, after=after, limit=3)
            if not page:
                break
            pages.append([u.id for u in page])
            after = page[-1].id

    assert [len(p) for p in pages] == [3, 3, 1]
    assert [i for p in pages for i in p] == expected


async def test_list_filters_by_text_status_and_role(backend: Backend) -> None:
    alice = make_user("alice", full_name="Alice Liddell", roles=frozenset({Role.ADMIN}))
    bob = make_user("bob_smith", email="bob@example.org", full_name="Bob 100% Smith")
    carol = make_user("carol", email="carol@liddell.example", is_active=False)
    dave = make_user("dave", full_name="Dave", roles=frozenset({Role.ADMIN, Role.USER}))
    await store_users(backend, alice, bob, carol, dave)

    async def names(**kwargs: object) -> list[str]:
        async with backend.new_uow() as uow:
            found = await uow.users.list(filter=UserFilter(**kwargs), after=None, limit=50)  # type: ignore[arg-type]
        return sorted(u.username for u in found)

    assert await names(q="LIDDELL") == ["alice", "carol"]  # full name or email, any case
    assert await names(q="example.org") == ["bob_smith"]
    assert await names(q="_") == ["bob_smith"]  # a literal underscore, not a wildcard
    assert await names(q="%") == ["bob_smith"]  # a literal percent sign
    assert await names(q="nobody") == []
    assert await names(is_active=False) == ["carol"]
    assert await names(is_active=True) == ["alice", "bob_smith", "dave"]
    assert await names(role=Role.ADMIN) == ["alice", "dave"]
    assert await names(role=Role.ADMIN, q="dave", is_active=True) == ["dave"]


async def test_list_filters_apply_before_the_page_limit(backend: Backend) -> None:
    admins = [make_user(f"admin{i}", roles=frozenset({Role.ADMIN})) for i in range(3)]
    others = [make_user(f"user{i}") for i in range(6)]
    await store_users(backend, *others, *admins)

    async with backend.new_uow() as uow:
        first = await uow.users.list(filter=UserFilter(role=Role.ADMIN), after=None, limit=2)
        rest = await uow.users.list(filter=UserFilter(role=Role.ADMIN), after=first[-1].id, limit=2)

    assert [u.id for u in first + rest] == sorted(u.id for u in admins)


async def test_count_active_admins(backend: Backend) -> None:
    await store_users(
        backend,
        make_user("admin1", roles=frozenset({Role.ADMIN})),
        make_user("admin2", roles=frozenset({Role.ADMIN, Role.USER})),
        make_user("retired", roles=frozenset({Role.ADMIN}), is_active=False),
        make_user("plain"),
    )
    async with backend.new_uow() as uow:
        assert await uow.users.count_active_admins() == 2


async def test_delete_removes_the_user_with_its_sessions_and_tokens(backend: Backend) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    await store_users(backend, alice, bob)
    alice_session, bob_session = make_session(alice), make_session(bob)
    alice_token, bob_token = make_token(alice_session), make_token(bob_session)
    await store_sessions(backend, alice_session, bob_session, tokens=(alice_token, bob_token))

    async with backend.new_uow() as uow:
        assert await uow.sessions.get(alice_session.id) is not None  # loaded before delete
        await uow.users.delete(alice.id)
        assert await uow.sessions.get(alice_session.id) is None
        await uow.commit()

    async with backend.new_uow() as uow:
        assert await uow.users.get(alice.id) is None
        assert await uow.users.get_by_username(Username("alice")) is None
        assert await uow.sessions.get(alice_session.id) is None
        assert await uow.sessions.get_refresh_token(alice_token.token_hash) is None
        assert await uow.users.get(bob.id) is not None
        assert await uow.sessions.get(bob_session.id) is not None
        assert await uow.sessions.get_refresh_token(bob_token.token_hash) == bob_token
        await uow.users.delete(alice.id)  # deleting twice is harmless


async def test_deleted_identity_can_be_registered_again(backend: Backend) -> None:
    alice = make_user("alice")
    await store_users(backend, alice)
    async with backend.new_uow() as uow:
        await uow.users.delete(alice.id)
        await uow.users.add(make_user("alice"))
        await uow.commit()
    async with backend.new_uow() as uow:
        again = await uow.users.get_by_username(Username("alice"))
    assert again is not None
    assert again.id != alice.id


async def test_read_for_update_makes_concurrent_writers_take_turns(backend: Backend) -> None:
    """Two read-modify-write transactions on one account: neither change is lost."""
    user = make_user("turns")
    await store_users(backend, user)
    entered = asyncio.Event()

    async def rename(full_name: str, *, first: bool) -> None:
        async with backend.new_uow() as uow:
            if not first:
                await entered.wait()  # the first writer holds the row by now
            current = await uow.users.get(user.id, for_update=True)
            assert current is not None
            if first:
                entered.set()
                await asyncio.sleep(0.05)  # the second writer queues meanwhile
            current.update(now=T0 + timedelta(seconds=1), full_name=FullName(full_name))
            if not first:
                current.update(now=T0 + timedelta(seconds=2), is_verified=True)
            await uow.users.update(current)
            await uow.commit()

    await asyncio.gather(rename("First", first=True), rename("Second", first=False))

    async with backend.new_uow() as uow:
        stored = await uow.users.get(user.id)
    assert stored is not None
    # The second writer read after the first committed: it saw and kept nothing stale.
    assert stored.full_name == FullName("Second")
    assert stored.is_verified is True


async def test_locked_admin_count_serializes_mutual_demotion(backend: Backend) -> None:
    """Two administrators demote each other at once: one must remain."""
    first = make_user("admin1", roles=frozenset({Role.ADMIN}))
    second = make_user("admin2", roles=frozenset({Role.ADMIN}))
    await store_users(backend, first, second)

    async def demote(target_id: object) -> str:
        async with backend.new_uow() as uow:
            admins = await uow.users.count_active_admins(lock=True)
            target = await uow.users.get(target_id, for_update=True)  # type: ignore[arg-type]
            assert target is not None
            await asyncio.sleep(0.02)
            if admins <= 1:
                return "refused"
            target.update(now=T0, roles=frozenset({Role.USER}))
            await uow.users.update(target)
            await uow.commit()
            return "demoted"

    outcomes = await asyncio.gather(demote(first.id), demote(second.id))
    assert sorted(outcomes) == ["demoted", "refused"]
    async with backend.new_uow() as uow:
        assert await uow.users.count_active_admins() == 1


async def test_roles_come_back_as_plain_names(backend: Backend) -> None:
    await store_roles(backend, make_role("support"))
    user = make_user("alice", roles=frozenset({"support", Role.AUDITOR}))
    await store_users(backend, user, make_user("bob"))

    async with backend.new_uow() as uow:
        loaded = await uow.users.get(user.id)
        holders = await uow.users.list(filter=UserFilter(role="support"), after=None, limit=10)
    assert loaded is not None
    assert loaded.roles == frozenset({"support", "auditor"})
    assert all(type(role) is str for role in loaded.roles)
    assert [u.id for u in holders] == [user.id]


async def test_a_role_that_does_not_exist_is_refused(backend: Backend) -> None:
    user = make_user("alice")
    await store_users(backend, user)

    async with backend.new_uow() as uow:
        with pytest.raises(UnknownRoleError):
            await uow.users.add(make_user("bob", roles=frozenset({"ghost"})))
        loaded = await uow.users.get(user.id)
        assert loaded is not None
        loaded.assign_roles(frozenset({"ghost", Role.USER}), now=T0)
        with pytest.raises(UnknownRoleError):
            await uow.users.update(loaded)
        # The transaction is still usable after the refusals.
        await uow.users.add(make_user("carol"))
        await uow.commit()

    async with backend.new_uow() as uow:
        listed = await uow.users.list(filter=EVERYTHING, after=None, limit=10)
        unchanged = await uow.users.get(user.id)
    assert sorted(u.username for u in listed) == ["alice", "carol"]
    assert unchanged is not None
    assert unchanged.roles == frozenset({Role.USER})


async def test_reserve_login_attempt_counts_up_to_the_threshold(backend: Backend) -> None:
    user = make_user("alice")
    await store_users(backend, user)

    attempts = []
    for _ in range(4):
        async with backend.new_uow() as uow:
            attempts.append(await uow.users.reserve_login_attempt(user.id, now=T0, threshold=3))
            await uow.commit()

    assert attempts == [1, 2, 3, None]
    async with backend.new_uow() as uow:
        stored = await uow.users.get(user.id)
    assert stored is not None
    assert stored.failed_logins == 3


async def test_reserved_attempts_show_in_later_reads_of_the_same_unit(backend: Backend) -> None:
    user = make_user("alice")
    await store_users(backend, user)
    async with backend.new_uow() as uow:
        assert await uow.users.get(user.id) is not None  # cached before the UPDATE
        assert await uow.users.reserve_login_attempt(user.id, now=T0, threshold=5) == 1
        after = await uow.users.get(user.id)
        assert after is not None
        assert after.failed_logins == 1


async def test_a_rolled_back_reservation_is_not_counted(backend: Backend) -> None:
    user = make_user("alice")
    await store_users(backend, user)
    async with backend.new_uow() as uow:
        assert await uow.users.reserve_login_attempt(user.id, now=T0, threshold=5) == 1
    async with backend.new_uow() as uow:
        assert await uow.users.reserve_login_attempt(user.id, now=T0, threshold=5) == 1


async def test_a_locked_account_reserves_nothing_until_the_lock_ends(backend: Backend) -> None:
    user = make_user("alice")
    user.locked_until = T0 + timedelta(minutes=15)
    await store_users(backend, user, ghost := make_user("ghost"))
    async with backend.new_uow() as uow:
        await uow.users.delete(ghost.id)
        await uow.commit()

    async def reserve(at: timedelta, user_id: object = user.id) -> int | None:
        async with backend.new_uow() as uow:
            got = await uow.users.reserve_login_attempt(
                user_id,  # type: ignore[arg-type]
                now=T0 + at,
                threshold=10,
            )
            await uow.commit()
            return got

    assert await reserve(timedelta(0)) is None
    assert await reserve(timedelta(minutes=14, seconds=59)) is None
    assert await reserve(timedelta(minutes=15)) == 1  # the lock ends at locked_until
    assert await reserve(timedelta(minutes=16)) == 2
    assert await reserve(timedelta(0), ghost.id) is None  # an unknown account


async def test_a_successful_login_resets_the_budget(backend: Backend) -> None:
    user = make_user("alice")
    await store_users(backend, user)
    for _ in range(2):
        async with backend.new_uow() as uow:
            await uow.users.reserve_login_attempt(user.id, now=T0, threshold=2)
            await uow.commit()

    async with backend.new_uow() as uow:
        assert await uow.users.reserve_login_attempt(user.id, now=T0, threshold=2) is None
        current = await uow.users.get(user.id, for_update=True)
        assert current is not None
        current.record_login(session_id=make_session(user).id, now=T0)
        await uow.users.update(current)
        await uow.commit()

    async with backend.new_uow() as uow:
        assert await uow.users.reserve_login_attempt(user.id, now=T0, threshold=2) == 1


async def test_concurrent_reservations_never_exceed_the_threshold(backend: Backend) -> None:
    """A burst of guesses at one account gets exactly `threshold` passwords checked."""
    user = make_user("alice")
    await store_users(backend, user)

    async def reserve() -> int | None:
        async with backend.new_uow() as uow:
            await asyncio.sleep(0)  # let the others start their transactions too
            attempt = await uow.users.reserve_login_attempt(user.id, now=T0, threshold=10)
            await uow.commit()
            return attempt

    outcomes = await asyncio.gather(*(reserve() for _ in range(50)))

    assert sorted(o for o in outcomes if o is not None) == list(range(1, 11))
    assert outcomes.count(None) == 40
    async with backend.new_uow() as uow:
        stored = await uow.users.get(user.id)
    assert stored is not None
    assert stored.failed_logins == 10


async def test_count_active_admins_counts_the_admin_role_by_name(backend: Backend) -> None:
    await store_roles(backend, make_role("administrators"))
    await store_users(
        backend,
        make_user("root", roles=frozenset({"admin"})),
        make_user("lookalike", roles=frozenset({"administrators"})),
        make_user("auditor", roles=frozenset({Role.AUDITOR})),
    )
    async with backend.new_uow() as uow:
        assert await uow.users.count_active_admins() == 1


async def test_delete_takes_keys_and_tokens_but_keeps_the_audit_trail(backend: Backend) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    await store_users(backend, alice, bob)
    alice_key, bob_key = make_api_key(alice), make_api_key(bob)
    alice_token, bob_token = make_one_time_token(alice), make_one_time_token(bob)
    (event_id,) = sequential_ids(1)
    async with backend.new_uow() as uow:
        await uow.api_keys.add(alice_key)
        await uow.api_keys.add(bob_key)
        await uow.one_time_tokens.add(alice_token)
        await uow.one_time_tokens.add(bob_token)
        await uow.audit.append(
            make_audit_event(event_id, actor_id=alice.id, target_id=str(alice.id))
        )
        await uow.commit()

    async with backend.new_uow() as uow:
        await uow.users.delete(alice.id)
        await uow.commit()

    async with backend.new_uow() as uow:
        assert await uow.api_keys.get(alice_key.id) is None
        assert await uow.api_keys.get_by_prefix(alice_key.prefix) is None
        assert await uow.one_time_tokens.get(alice_token.token_hash) is None
        assert await uow.api_keys.get(bob_key.id) is not None
        assert await uow.one_time_tokens.get(bob_token.token_hash) == bob_token
        trail = await uow.audit.list(filter=AuditFilter(actor_id=alice.id), after=None, limit=5)
    assert [e.id for e in trail] == [event_id]
    assert trail[0].outcome is Outcome.SUCCESS
