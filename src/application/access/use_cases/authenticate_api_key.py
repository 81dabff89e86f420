from dataclasses import dataclass, field

from application.caching.user_cache import UserCache
from application.common.security import Principal
from application.common.use_case import Transactional
from application.errors import AuthenticationError
from application.ports.api_key_secrets import ApiKeySecrets


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
    - The key, its owner and what the roles grant come through `UserCache`: a warm
      request reads nothing from the database. A revocation drops the cached key after
      commit on every instance (as every write to a user or a role drops theirs), and a
      recorded use drops it too, so the next request sees the new `last_used_at`. Only
      the once-a-minute use record opens a transaction, a writing one.
    """

    secrets: ApiKeySecrets
    users: UserCache

    async def execute(self, command: AuthenticateApiKeyCommand) -> Principal:
        refused = AuthenticationError("invalid API key")
        parsed = self.secrets.parse(command.key)
        if parsed is None:
            raise refused
        prefix, secret_hash = parsed
        now = self.clock.now()
        key = await self.users.api_key(prefix)
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
            # Recorded here or, within the minute, elsewhere: the cached key is behind.
            await self.users.forget_api_key(prefix)
        return Principal(user=owner, permissions=granted & key.scopes, api_key_id=key.id)
