from dataclasses import dataclass, field

from application.caching.user_cache import UserCache
from application.common.security import Principal
from application.common.use_case import Transactional
from application.errors import AuthenticationError
from application.ports.api_key_secrets import ApiKeySecrets
from application.ports.unit_of_work_factory import UnitOfWorkFactory


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthenticateApiKeyCommand:
    key: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class AuthenticateApiKey(Transactional):
    """Turn an `X-API-Key` into the calling principal, on every request.

    - Malformed, unknown, revoked and expired keys all fail alike (`unauthorized`).
    - The secret is compared in constant time against its stored digest: no password
      hash per request.
    - The key acts as its owner limited to its scopes, recomputed from the owner's roles
      now: a demoted owner's keys lose what the owner lost, on the next request. An
      inactive or deleted owner's keys stop working.
    - The first use is audited; `last_used_at` is written at most once a minute.
    - The key is read in a read-only transaction (`reads`), which takes no write lock:
      only the once-a-minute use record opens a writing one. The owner and what the
      roles grant come through `UserCache`, as for a bearer token, which every write
      to a user or a role invalidates after commit on every instance.
    """

    secrets: ApiKeySecrets
    reads: UnitOfWorkFactory
    users: UserCache

    async def execute(self, command: AuthenticateApiKeyCommand) -> Principal:
        refused = AuthenticationError("invalid API key")
        parsed = self.secrets.parse(command.key)
        if parsed is None:
            raise refused
        prefix, secret_hash = parsed
        now = self.clock.now()
        async with self.reads() as uow:
            key = await uow.api_keys.get_by_prefix(prefix)
        if key is None or not self.secrets.matches(secret_hash, key.secret_hash):
            raise refused
        if not key.is_usable(now):
            raise refused
        roles = await self.users.roles()
        owner = await self.users.user(key.owner_id, roles)
        if owner is None or not owner.is_active:
            raise refused
        granted = roles.permissions(owner.roles)
        if key.use_is_due(now):
            async with self.uow_factory() as uow:
                # Decided again under a row lock: parallel first uses record one.
                locked = await uow.api_keys.get(key.id, for_update=True)
                if locked is not None and locked.used(now=now):
                    await uow.api_keys.update(locked)
                    await uow.commit(actor_id=owner.id)
        return Principal(user=owner, permissions=granted & key.scopes, api_key_id=key.id)
