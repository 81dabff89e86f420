"""Early, friendly uniqueness checks for email and username.

These give a clean 409 in the common case; the database's unique constraints remain
the real guard when two requests race (adapters map a violation to the same errors).
"""

from uuid import UUID

from application.errors import EmailAlreadyRegisteredError, UsernameTakenError
from application.ports.user_repository import UserRepository
from domain.identity.value_objects import Email, Username


async def ensure_identity_free(
    users: UserRepository,
    *,
    email: Email | None = None,
    username: Username | None = None,
    owner_id: UUID | None = None,
) -> None:
    """Raise if `email` or `username` belongs to an account other than `owner_id`."""
    if email is not None:
        holder = await users.get_by_email(email)
        if holder is not None and holder.id != owner_id:
            raise EmailAlreadyRegisteredError()
    if username is not None:
        holder = await users.get_by_username(username)
        if holder is not None and holder.id != owner_id:
            raise UsernameTakenError()
