"""Events leave only after the change they describe is committed, and never for a change
that was rolled back."""

from collections.abc import Callable, Sequence

import pytest

from adapters.memory import InMemoryStore
from adapters.memory.event_publisher import InMemoryEventPublisher
from adapters.memory.store import Tables
from application.errors import (
    EmailAlreadyRegisteredError,
    InvalidCurrentPasswordError,
    InvalidTokenError,
    LastAdministratorError,
)
from application.identity.use_cases.change_password import ChangePasswordCommand
from application.identity.use_cases.refresh_session import RefreshSessionCommand
from application.identity.use_cases.update_user import UpdateUserCommand
from domain.common.events import DomainEvent
from domain.identity.events import (
    PasswordChanged,
    SessionRefreshed,
    SessionRevoked,
    UserDeleted,
    UserLoggedIn,
    UserRegistered,
)
from tests.unit.application.conftest import PASSWORD, REFRESH_TTL, App


class SnapshottingPublisher(InMemoryEventPublisher):
    """Also keeps, for each event, the committed state of the store when it was published.

    `InMemoryUnitOfWork.commit` replaces `store.committed` with a new object, so holding
    the reference is a snapshot.
    """

    def __init__(self, store: InMemoryStore) -> None:
        super().__init__()
        self._store = store
        self.committed_at_publish: list[tuple[DomainEvent, Tables]] = []

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        await super().publish(events)
        self.committed_at_publish += [(event, self._store.committed) for event in events]


def is_durable(event: DomainEvent, committed: Tables) -> bool:
    match event:
        case UserRegistered(user_id=user_id):
            return user_id in committed.users
        case UserLoggedIn(session_id=session_id) | SessionRefreshed(session_id=session_id):
            return session_id in committed.sessions
        case SessionRevoked(session_id=session_id):
            return committed.sessions[session_id].revoked_at is not None
        case PasswordChanged(user_id=user_id, occurred_at=at):
            return committed.users[user_id].updated_at == at
        case UserDeleted(user_id=user_id):
            return user_id not in committed.users
    return True


async def test_every_event_describes_an_already_committed_change(
    make_app: Callable[..., App],
) -> None:
    store = InMemoryStore()
    publisher = SnapshottingPublisher(store)
    app = make_app(store=store, events=publisher)

    admin = await app.admin()
    await app.sign_up("ada")
    pair = await app.log_in_as("ada")
    other = await app.principal_for(await app.log_in_as("ada"))
    app.clock.advance(seconds=1)
    await app.refresh_session.execute(RefreshSessionCommand(refresh_token=pair.refresh_token))
    await app.change_password.execute(
        other, ChangePasswordCommand(current_password=PASSWORD, new_password="second password")
    )
    await app.delete_user.execute(admin, other.user_id)

    names = {event.name for event, _ in publisher.committed_at_publish}
    assert {
        "UserRegistered",
        "UserLoggedIn",
        "SessionRefreshed",
        "PasswordChanged",
        "SessionRevoked",
        "UserDeleted",
    } <= names
    late = [
        e.name for e, committed in publisher.committed_at_publish if not is_durable(e, committed)
    ]
    assert late == []


async def test_a_refused_registration_announces_nothing(app: App) -> None:
    await app.sign_up("ada")
    before = list(app.events.events)
    with pytest.raises(EmailAlreadyRegisteredError):
        await app.sign_up("ada")
    assert app.events.events == before
    assert [type(e) for e in before] == [UserRegistered]


async def test_a_rolled_back_admin_change_announces_nothing(app: App) -> None:
    admin = await app.admin()
    before = list(app.events.events)
    with pytest.raises(LastAdministratorError):
        await app.update_user.execute(
            admin, admin.user_id, UpdateUserCommand(is_active=False, full_name="Gone")
        )
    assert app.events.events == before
    stored = await app.stored_user(admin.user_id)
    assert stored is not None
    assert stored.full_name is None, "the rest of the change was rolled back too"


async def test_a_conflicting_password_change_announces_nothing(app: App) -> None:
    await app.sign_up("ada")
    stale = await app.principal_for(await app.log_in_as("ada"))
    current = await app.principal_for(await app.log_in_as("ada"))
    await app.change_password.execute(
        current, ChangePasswordCommand(current_password=PASSWORD, new_password="second password")
    )
    before = list(app.events.events)
    # The stale caller's copy of the account predates the change; the password is
    # checked against the stored hash, which no longer matches.
    with pytest.raises(InvalidCurrentPasswordError):
        await app.change_password.execute(
            stale, ChangePasswordCommand(current_password=PASSWORD, new_password="third password")
        )
    after = app.events.events[len(before) :]
    assert not any(isinstance(e, PasswordChanged | SessionRevoked) for e in after)
    assert sum(isinstance(e, PasswordChanged) for e in before) == 1
    assert sum(isinstance(e, SessionRevoked) for e in before) == 1


async def test_a_failed_refresh_announces_nothing(app: App) -> None:
    await app.sign_up("ada")
    pair = await app.log_in_as("ada")
    app.clock.advance(REFRESH_TTL)
    before = list(app.events.events)
    with pytest.raises(InvalidTokenError):
        await app.refresh_session.execute(RefreshSessionCommand(refresh_token=pair.refresh_token))
    assert app.events.events == before
