"""A partial index on live sessions, for the active-sessions count.

Revision ID: 0004_live_sessions_index
Revises: 0003_tokens_and_mfa
Create Date: 2026-11-22 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_live_sessions_index"
down_revision: str | None = "0003_tokens_and_mfa"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_sessions_live_expires_at",
        "sessions",
        ["expires_at"],
        postgresql_where=sa.text("revoked_at IS NULL"),
        sqlite_where=sa.text("revoked_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_sessions_live_expires_at", table_name="sessions")
