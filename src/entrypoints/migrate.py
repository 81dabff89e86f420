"""`hexahub migrate`, `migrate --check` and `migrate status`: what an operator, a deploy
Job and a readiness gate need to know about the schema."""

import sys

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from adapters.sqlalchemy import migrations
from entrypoints.config.settings import Settings

EXIT_PENDING = 1  # also: at a revision this release does not ship
EXIT_UNREACHABLE = 3


def migrate(settings: Settings, *, check: bool = False, status: bool = False) -> int:
    # The in-process storage (entrypoints.container.MEMORY_URL) has no schema. Told by
    # its scheme, so that these commands (a readiness gate polls one) skip importing the
    # whole container, which costs more than the check itself.
    if (settings.database_url or "").startswith("memory:"):
        print("hexahub: in-memory storage needs no migrations")
        return 0
    url = settings.effective_database_url
    try:
        if status:
            return _print_status(url)
        if check:
            return _check(url)
        migrations.upgrade_to_head(url)
    except (OSError, DBAPIError) as error:
        # A statement that failed inside a migration is a DBAPIError too (a lock timeout,
        # a full disk): that surfaces with its traceback. Connecting runs no statement.
        if isinstance(error, DBAPIError) and error.statement:
            raise
        print(
            f"hexahub: cannot reach the database at {_shown(url)}: {_reason(error)}",
            file=sys.stderr,
        )
        return EXIT_UNREACHABLE
    print("hexahub: database is at the newest migration")
    return 0


def _check(url: str) -> int:
    state = migrations.migration_status(url)
    if state.at_head:
        print(f"hexahub: database is at the newest migration ({state.head})")
        return 0
    if not state.known:
        print(
            f"hexahub: database is at {state.current}, a migration this release does not "
            f"ship (its newest is {state.head}); a newer release migrated it",
            file=sys.stderr,
        )
        return EXIT_PENDING
    count = len(state.pending)
    print(
        f"hexahub: {count} migration{'s' * (count != 1)} pending "
        f"(database at {state.current or 'no revision'}, newest {state.head}); "
        "run `hexahub migrate`",
        file=sys.stderr,
    )
    return EXIT_PENDING


def _print_status(url: str) -> int:
    state = migrations.migration_status(url)
    current = state.current or "none (never migrated)"
    if not state.known:
        current += " (not shipped with this release: a newer release migrated it)"
    print(f"database  {_shown(url)}")
    print(f"current   {current}")
    print(f"newest    {state.head}")
    if state.at_head:
        print("pending   none")
    elif not state.known:
        print("pending   unknown")
    else:
        print(f"pending   {len(state.pending)}")
        width = max(len(step.revision) for step in state.pending)
        for step in state.pending:
            print(f"  {step.revision:<{width}}  {step.description}")
    return 0


def _reason(error: BaseException) -> str:
    original = getattr(error, "orig", None) or error
    text = str(original).strip().splitlines()
    return text[0] if text else type(original).__name__


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
