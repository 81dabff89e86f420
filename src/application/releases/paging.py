"""Newest-first keyset pages of the releases context's lists."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar
from uuid import UUID


class _Identified(Protocol):
    @property
    def id(self) -> UUID: ...


T = TypeVar("T", bound=_Identified)
MAX_LIMIT = 100


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_before: UUID | None
    """The id to continue before, or None on the last page."""


async def newest_first(limit: int, read: Callable[[int], Awaitable[list[T]]]) -> Page[T]:
    """`read(n)` gives up to n items newest first; `limit` is kept within 1..100. One
    item more than asked tells whether another page follows."""
    limit = max(1, min(limit, MAX_LIMIT))
    found = await read(limit + 1)
    items = found[:limit]
    return Page(items, items[-1].id if len(found) > limit else None)
