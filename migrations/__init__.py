"""The Alembic scripts, importable so that an installed `hexahub migrate` finds them."""
