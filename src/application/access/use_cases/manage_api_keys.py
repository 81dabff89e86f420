"""Issuing, listing and revoking API keys."""

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from application.access.permissions import permissions_for
from application.common.reauthentication import Reauthenticator
from application.common.security import Principal
from application.common.use_case import Transactional
from application.errors import ApiKeyNotFoundError
from application.ports.api_key_secrets import ApiKeySecrets
from application.ports.id_generator import IdGenerator
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from domain.access.api_keys import ApiKey
from domain.access.permissions import Permission
from domain.common.errors import InvalidValueError


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateApiKeyCommand:
    name: str
    scopes: list[str]
    expires_at: datetime | None = None
    current_password: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class IssuedApiKey:
    key: ApiKey
    secret: str
    """The whole `hx_…` key: returned once, never stored, never shown again."""


@dataclass(frozen=True, slots=True)
class CreateApiKey(Transactional):
    """Issue an API key for the caller.

    - Needs a login session: a key cannot mint keys.
    - A key outlives the access token that asked for it, so issuing one is a sensitive
      change (OWASP ASVS 5.0 V7.5.3): it needs a login session opened within the last
      REAUTH_WINDOW_SECONDS ("sudo mode", as a client that signs in and creates its key
      does) or else `current_password` (wrong or missing: `bad_request`, detail type
      `invalid_current_password`; wrong ones count towards the lockout; for an account
      without a password, detail type `reauthentication_required`).
    - Scopes must be known permissions the caller holds now (no escalation); they are
      checked again on every use, against the owner's permissions at that time.
    - `expires_at`, when given, must lie in the future.
    """

    secrets: ApiKeySecrets
    ids: IdGenerator
    reauthenticator: Reauthenticator

    async def execute(self, principal: Principal, command: CreateApiKeyCommand) -> IssuedApiKey:
        principal.require_session()
        name, scopes = principal.credential(command.name, command.scopes)
        if command.expires_at is not None and command.expires_at <= self.clock.now():
            raise InvalidValueError("expires_at must be in the future", field="expires_at")
        # Last: a request refused for its shape costs no password check.
        await self.reauthenticator.confirm(
            principal, command.current_password, recent_sign_in_suffices=True
        )
        now = self.clock.now()
        new = self.secrets.new_key()
        key = ApiKey.issue(
            id=self.ids.new_id(),
            owner_id=principal.user_id,
            name=name,
            prefix=new.prefix,
            secret_hash=new.secret_hash,
            scopes=scopes,
            now=now,
            expires_at=command.expires_at,
        )
        async with self.uow_factory() as uow:
            await uow.api_keys.add(key)
            await uow.commit(actor_id=principal.actor_id)
        return IssuedApiKey(key, new.key)


@dataclass(frozen=True, slots=True)
class ListApiKeys:
    """The caller's keys, newest first. With `api_keys:manage`, anyone's: one owner's
    (`owner_id`) or all (`everyone`). Secrets are never listed."""

    uow_factory: UnitOfWorkFactory

    async def execute(
        self, principal: Principal, *, owner_id: UUID | None = None, everyone: bool = False
    ) -> list[ApiKey]:
        if everyone or (owner_id is not None and owner_id != principal.user_id):
            principal.require(Permission.API_KEYS_MANAGE)
        owner = None if everyone else (owner_id or principal.user_id)
        async with self.uow_factory() as uow:
            return await uow.api_keys.list(owner_id=owner)


@dataclass(frozen=True, slots=True)
class RevokeApiKey(Transactional):
    """Revoke a key at once. Owners revoke their own; `api_keys:manage` revokes those of
    accounts the caller could manage (not a more powerful one's). Someone else's key
    answers `not_found` to anyone else, like an unknown id. Authenticated by a key, a
    caller may revoke that key only."""

    async def execute(self, principal: Principal, key_id: UUID) -> None:
        async with self.uow_factory() as uow:
            key = await uow.api_keys.get(key_id)
            if key is None or (
                key.owner_id != principal.actor_id
                and Permission.API_KEYS_MANAGE not in principal.permissions
            ):
                raise ApiKeyNotFoundError()
            if principal.api_key_id is not None and key.id != principal.api_key_id:
                principal.require_session()  # a leaked key may end itself, not its siblings
            if key.owner_id != principal.actor_id:
                owner = await uow.users.get(key.owner_id)
                owner_roles = owner.roles if owner else frozenset()
                principal.may_manage(key.owner_id, await permissions_for(uow.roles, owner_roles))
            if key.revoke(now=self.clock.now()):
                await uow.api_keys.update(key)
                await uow.commit(actor_id=principal.actor_id)
