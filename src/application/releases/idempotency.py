"""`Idempotency-Key` on creations: a retry with the same key and body gets the first
answer and creates nothing; the same key with another body is refused (422).

The record is written in the transaction of the creation, under a unique (scope, key),
so two concurrent requests with one key cannot both create: the loser reads the
winner's record and answers with it. Records count for 24 hours.
"""

import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from application.common.security import Principal
from application.errors import ConflictError, IdempotencyKeyReusedError
from application.ports.idempotency_repository import IdempotencyRecord
from application.ports.transaction import Transaction
from application.ports.unit_of_work import UnitOfWork
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from domain.common.errors import InvalidValueError
from domain.releases.errors import ReleaseRuleError

KEPT_FOR = timedelta(hours=24)
KEY_MAX = 255
PRUNE_BATCH = 10


class InvalidIdempotencyKeyError(InvalidValueError):
    field = "Idempotency-Key"
    location = "header"


@dataclass(frozen=True, slots=True, kw_only=True)
class IdempotencyKey:
    scope: str
    key: str
    fingerprint: str

    @classmethod
    def of(
        cls, principal: Principal, operation: str, key: str | None, body: Mapping[str, Any]
    ) -> "IdempotencyKey | None":
        if key is None:
            return None
        if not 1 <= len(key) <= KEY_MAX or not key.isascii() or not key.isprintable():
            raise InvalidIdempotencyKeyError(
                f"Idempotency-Key must be 1-{KEY_MAX} printable ASCII characters"
            )
        caller = principal.actor_id or principal.client_id
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
        return cls(
            scope=f"{caller}:{operation}",
            key=key,
            fingerprint=hashlib.sha256(canonical.encode()).hexdigest(),
        )

    async def first_answer(self, tx: Transaction, now: datetime) -> UUID | None:
        """The id the first request with this key created, or None if there was none."""
        record = await tx.idempotency.get(self.scope, self.key, not_before=now - KEPT_FOR)
        if record is None:
            return None
        if record.fingerprint != self.fingerprint:
            raise IdempotencyKeyReusedError()
        return record.resource_id

    async def remember(self, tx: Transaction, resource_id: UUID, now: datetime) -> None:
        record = IdempotencyRecord(
            scope=self.scope,
            key=self.key,
            fingerprint=self.fingerprint,
            status=201,
            resource_id=resource_id,
            created_at=now,
        )
        await tx.idempotency.add(record, not_before=now - KEPT_FOR)
        # Expired records go a few at a time with each new one: the table stays bounded
        # by a day's keys without a sweeper of its own.
        await tx.idempotency.prune(before=now - KEPT_FOR, limit=PRUNE_BATCH)


T = TypeVar("T")


async def create_once(
    uow_factory: UnitOfWorkFactory,
    key: IdempotencyKey | None,
    now: datetime,
    *,
    create: Callable[[UnitOfWork], Awaitable[T]],
    find: Callable[[Transaction, UUID], Awaitable[T | None]],
    id_of: Callable[[T], UUID],
    actor_id: UUID | None,
) -> T:
    """Run `create` in one unit of work and commit, unless `key` says it ran before: then
    `find` the first answer. A conflict with a concurrent request of the same key (it
    committed first, under the unique key or a rule of the resource) is answered the
    same way; any other conflict is the caller's."""
    try:
        async with uow_factory() as uow:
            if key is not None:
                first = await key.first_answer(uow, now)
                found = None if first is None else await find(uow, first)
                if found is not None:
                    return found
            created = await create(uow)
            if key is not None:
                await key.remember(uow, id_of(created), now)
            await uow.commit(actor_id=actor_id)
            return created
    except (ConflictError, ReleaseRuleError):
        if key is None:
            raise
        async with uow_factory() as uow:
            first = await key.first_answer(uow, now)
            found = None if first is None else await find(uow, first)
        if found is None:
            raise
        return found
