"""SQLAlchemy 2 (asyncio) persistence: one adapter for PostgreSQL (asyncpg) and SQLite
(aiosqlite). Schema changes go through Alembic (`migrations/`), never `create_all`."""
