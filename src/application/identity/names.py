"""Reading an optional full name the same way on every path."""

from domain.identity.value_objects import FullName


def optional_full_name(raw: str | None) -> FullName | None:
    """None, empty and whitespace-only all mean "no full name"."""
    return FullName(raw) if raw is not None and raw.strip() else None


def clears_full_name(raw: str | None, *, explicit_clear: bool) -> bool:
    """An explicit null, or a blank string, removes the full name."""
    return explicit_clear or (raw is not None and not raw.strip())
