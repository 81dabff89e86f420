"""Stored email addresses in their one canonical form (Unicode NFC, the domain in one IDNA
form, no trailing dot, lower case), as the service now writes and looks them up.

Rows that would collide once normalised (`jürgen@…` stored in NFC and in NFD, say) are
left as they are, every one of them, and each group is logged as a warning naming the
accounts: merging or picking one is an operator's decision, not a migration's. Setting
each of those accounts' email through the API (`PATCH /api/v1/users/{id}`) stores it
normalised. Rows whose address today's rules refuse (a quoted local part, a reserved
domain) are kept and logged too. The downgrade keeps the normalised addresses: the
spellings they replaced are not recorded anywhere, and the old code reads them fine.

Revision ID: 0006_normalise_emails
Revises: 0005_event_outbox
Create Date: 2026-12-02 00:00:00
"""

import logging
import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from adapters.emails.normaliser import normalise_email
from domain.common.errors import InvalidEmailError

revision: str = "0006_normalise_emails"
down_revision: str | None = "0005_event_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("hexahub.migrations")


def _account(row: Any) -> str:
    # SQLite hands the id back as 32 hex digits, Postgres as a UUID: print one form.
    return f"{uuid.UUID(str(row.id))} ({row.username})"


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, email, username FROM users")).all()
    by_canonical: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        try:
            by_canonical[normalise_email(row.email)].append(row)
        except InvalidEmailError as error:
            log.warning(
                "email_not_normalised: user %s keeps its stored address, which is now "
                "refused (%s); set a valid one through the API",
                _account(row),
                error.message,
            )
    changes = []
    for canonical, group in by_canonical.items():
        if len(group) > 1:
            log.warning(
                "email_collision: users %s are one mailbox once normalised; all %d rows "
                "left unchanged: decide which account keeps the address, then set each "
                "one's email through the API (PATCH /api/v1/users/{id})",
                ", ".join(_account(row) for row in group),
                len(group),
            )
        elif group[0].email != canonical:
            changes.append({"id": group[0].id, "email": canonical})
    if changes:
        connection.execute(sa.text("UPDATE users SET email = :email WHERE id = :id"), changes)
    log.info("emails_normalised: %d of %d stored addresses rewritten", len(changes), len(rows))


def downgrade() -> None:
    """Nothing to undo: the normalised addresses are valid for the previous revision."""
