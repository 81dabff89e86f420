"""Creating an account: shared by self-registration, administrators and bootstrap."""

from dataclasses import dataclass, field
from uuid import UUID

from application.identity.names import optional_full_name
from application.identity.passwords import PasswordRules
from application.identity.uniqueness import ensure_identity_free
from application.ports.clock import Clock
from application.ports.email_normaliser import EmailNormaliser
from application.ports.id_generator import IdGenerator
from application.ports.password_hasher import PasswordHasher
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from domain.access.roles import Role
from domain.identity.user import User
from domain.identity.value_objects import Username


@dataclass(frozen=True, slots=True, kw_only=True)
class NewAccount:
    email: str
    username: str
    password: str = field(repr=False)
    full_name: str | None = None
    roles: frozenset[str] = frozenset({Role.USER})
    is_active: bool = True
    is_verified: bool = False
    created_by: UUID | None = None
    """The administrator creating it; None for self-registration and bootstrap."""


class AccountCreator:
    """Validates, hashes and stores a new account in one transaction, audited.

    The password is hashed before the transaction opens, so no database lock is held
    during the hash; a cheap uniqueness check first spares the hash for a taken email.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        hasher: PasswordHasher,
        ids: IdGenerator,
        clock: Clock,
        password_rules: PasswordRules,
        emails: EmailNormaliser,
    ) -> None:
        self._emails = emails
        self._uow_factory = uow_factory
        self._hasher = hasher
        self._ids = ids
        self._clock = clock
        self._password_rules = password_rules

    async def create(self, account: NewAccount) -> User:
        email = self._emails.normalise(account.email)
        username = Username(account.username)
        full_name = optional_full_name(account.full_name)
        self._password_rules.check(account.password, email=email.value, username=username.value)

        async with self._uow_factory() as uow:
            await ensure_identity_free(uow.users, email=email, username=username)
        password_hash = await self._hasher.hash(account.password)

        async with self._uow_factory() as uow:
            await ensure_identity_free(uow.users, email=email, username=username)
            user = User.register(
                id=self._ids.new_id(),
                email=email,
                username=username,
                full_name=full_name,
                password_hash=password_hash,
                now=self._clock.now(),
                roles=account.roles,
                is_active=account.is_active,
                is_verified=account.is_verified,
                created_by_admin=account.created_by is not None,
            )
            await uow.users.add(user)
            await uow.commit(actor_id=account.created_by or user.id)
        return user
