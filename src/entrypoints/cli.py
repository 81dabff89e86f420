"""`hexahub`: serve, migrate, create-admin, keys."""

import argparse
import asyncio
import getpass
import logging
import os
import shutil
import signal
import sys
from importlib.metadata import PackageNotFoundError, version
from types import FrameType

from dependency_injector import providers
from pydantic import ValidationError

from entrypoints.config.settings import Settings

EXIT_FAILED = 1  # also: migrations pending (`migrate --check`)
EXIT_USAGE = 2  # a bad argument, setting or missing input
# 3: the database did not answer (entrypoints.migrate)

EXIT_CODES = """exit status:
  0  done (`migrate --check`: the database is at the newest migration)
  1  failed (`migrate --check`: migrations are pending)
  2  invalid arguments, configuration or input
  3  the database is unreachable"""


def _version() -> str:
    try:
        return version("hexahub")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hexahub",
        description="HexaHub identity service",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"hexahub {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve the HTTP API on HOST:PORT")
    serve.add_argument("--host", help="default: HOST or 127.0.0.1")
    serve.add_argument("--port", type=int, help="default: PORT or 8000")
    serve.add_argument("--workers", type=int, help="default: WORKERS or 1")

    migrate = commands.add_parser(
        "migrate",
        help="apply database migrations up to the newest",
        description="Apply the database migrations up to the newest. Concurrent runs on "
        "PostgreSQL wait for each other (an advisory lock), so every replica may run it.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    migrate.add_argument(
        "--check",
        action="store_true",
        help="change nothing; exit 0 when the database is at the newest migration, 1 if not",
    )
    migrate_commands = migrate.add_subparsers(dest="migrate_command", metavar="status")
    migrate_commands.add_parser(
        "status", help="show the database's revision and the migrations still to apply"
    )

    admin = commands.add_parser(
        "create-admin",
        help="create the first administrator",
        description="Create the first administrator unless one exists. The password is "
        "FIRST_ADMIN_PASSWORD when set, else a prompt on a terminal, else the first line "
        "of standard input.",
    )
    admin.add_argument("--email", default=os.environ.get("FIRST_ADMIN_EMAIL"))
    admin.add_argument("--username", default=os.environ.get("FIRST_ADMIN_USERNAME", "admin"))
    admin.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input even when FIRST_ADMIN_PASSWORD is set",
    )

    keys = commands.add_parser("keys", help="signing keys")
    keys_commands = keys.add_subparsers(dest="keys_command", metavar="rotate")
    keys_commands.add_parser(
        "rotate", help="add a new active signing key; running instances use it within 60 s"
    )
    keys.set_defaults(help_for=keys)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None or (args.command == "keys" and args.keys_command is None):
        getattr(args, "help_for", parser).print_help()
        return 0
    if args.command == "migrate" and args.check and args.migrate_command:
        parser.error("migrate: --check and status are alternatives")
    try:
        settings = Settings()
    except ValidationError as error:
        problems = "\n".join(
            f"  {'.'.join(map(str, e['loc'])).upper() or 'settings'}: {e['msg']}"
            for e in error.errors(include_input=False, include_url=False)
        )
        print(f"hexahub: invalid configuration:\n{problems}", file=sys.stderr)
        return EXIT_USAGE
    from entrypoints.logging import configure_logging

    # Here for the commands and for the parent of several workers; each worker process
    # configures its own in create_app.
    configure_logging(settings.log_level, settings.effective_log_format)
    _quiet_alembic()
    if args.command == "serve":
        return _serve(settings, args)
    if args.command == "migrate":
        from entrypoints.migrate import migrate

        return migrate(settings, check=args.check, status=args.migrate_command == "status")
    if args.command == "keys":
        return _rotate_keys(settings)
    return _create_admin(settings, args)


def _quiet_alembic() -> None:
    """Alembic announces each built-in plugin at INFO when it is first imported, and its
    dialect choice on every run: noise for an operator. "Running upgrade" lines stay."""
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    migration = logging.getLogger("alembic.runtime.migration")
    migration.addFilter(
        lambda record: not str(record.msg).startswith(("Context impl", "Will assume"))
    )


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import functools

    import uvicorn

    from entrypoints.http.protocol import BoundedHttpToolsProtocol
    from entrypoints.malloc import bound_malloc_arenas

    bound_malloc_arenas()
    workers = args.workers or settings.workers
    # Each worker reads its settings afresh; --workers must reach them (`memory://`'s
    # cache, for one, is kept for a single process only).
    os.environ["WORKERS"] = str(workers)
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # One scrape must see every worker: they share metric files in a directory
        # emptied at each start (leftovers from a previous run would be added in).
        directory = settings.data_dir / "metrics"
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)

    # After its graceful shutdown uvicorn raises the signal again under the handler it
    # found; by default SIGTERM would then kill the process (exit 143) although the
    # shutdown was clean. The drain before it is in entrypoints/http/shutdown.py.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    uvicorn.run(
        "entrypoints.http.app:create_app",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=workers,
        loop=_event_loop(settings.event_loop, workers),
        log_config=None,  # create_app configures structlog for every worker
        access_log=False,  # one access line per request comes from our middleware
        server_header=False,
        # Live events are small JSON messages: per-message deflate would save little and
        # costs each WebSocket connection two zlib contexts (about 100 KiB, measured by
        # bench/live.py), the difference between 1,000 idle connections fitting in
        # 100 MiB or not.
        ws_per_message_deflate=False,
        proxy_headers=False,  # the client address comes from the socket only
        timeout_graceful_shutdown=settings.shutdown_timeout_seconds,
        # httptools with the request head bounded in size and time (431, 408); a partial
        # is picklable, so every worker process gets the same limits.
        http=functools.partial(  # type: ignore[arg-type]
            BoundedHttpToolsProtocol,
            max_head_bytes=settings.max_header_bytes,
            head_timeout=settings.header_timeout_seconds,
        ),
    )
    return 0


def _event_loop(setting: str, workers: int) -> str:
    """uvicorn's `loop` (see `Settings.event_loop`); "auto" there means uvloop if it is
    installed."""
    if setting != "auto":
        return setting
    return "auto" if workers > 1 else "asyncio"


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def _rotate_keys(settings: Settings) -> int:
    from domain.common.errors import DomainError
    from entrypoints.container import Container, start, stop

    async def run() -> int:
        container = Container(settings=providers.Object(settings))
        await start(container)
        try:
            ring = container.key_ring()
            if not ring.is_static:
                await ring.ensure_key(ring.signing_algorithm)
            key = await container.rotate_signing_key().execute(None)
        except DomainError as error:
            print(f"hexahub: {error.message}", file=sys.stderr)
            return EXIT_FAILED
        finally:
            await stop(container)
        print(f"hexahub: now signing with {key.algorithm.value} key {key.kid}")
        return 0

    return asyncio.run(run())


class _NoPasswordError(Exception):
    pass


def _admin_password(settings: Settings, from_stdin: bool) -> str:
    """--password-stdin, else FIRST_ADMIN_PASSWORD, else a prompt on a terminal, else the
    first line of standard input (a pipe, `docker exec` without -t, a CI job)."""
    if not from_stdin and settings.first_admin_password is not None:
        return settings.first_admin_password.get_secret_value()
    if from_stdin or sys.stdin is None or not sys.stdin.isatty():
        line = sys.stdin.readline() if sys.stdin is not None else ""
        password = line.rstrip("\r\n")
    else:
        try:
            password = getpass.getpass("Password for the administrator: ")
            if password and getpass.getpass("Repeat the password: ") != password:
                raise _NoPasswordError("the passwords do not match")
        except EOFError:
            password = ""
    if not password:
        raise _NoPasswordError(
            "no password given: pipe it on standard input, set FIRST_ADMIN_PASSWORD, "
            "or run in a terminal to be asked"
        )
    return password


def _create_admin(settings: Settings, args: argparse.Namespace) -> int:
    from application.identity.use_cases.bootstrap_admin import BootstrapAdminCommand
    from domain.common.errors import DomainError
    from entrypoints.container import Container, start, stop

    if not args.email:
        print("hexahub: --email (or FIRST_ADMIN_EMAIL) is required", file=sys.stderr)
        return EXIT_USAGE
    try:
        password = _admin_password(settings, args.password_stdin)
    except _NoPasswordError as error:
        print(f"hexahub: {error}", file=sys.stderr)
        return EXIT_USAGE

    async def run() -> int:
        container = Container(settings=providers.Object(settings))
        await start(container)
        try:
            created = await container.bootstrap_admin().execute(
                BootstrapAdminCommand(email=args.email, password=password, username=args.username)
            )
        except DomainError as error:
            print(f"hexahub: {error.message}", file=sys.stderr)
            return EXIT_FAILED
        finally:
            await stop(container)
        if created is None:
            print("hexahub: an administrator already exists; nothing created")
        else:
            print(f"hexahub: administrator {created.username} created ({created.id})")
        return 0

    return asyncio.run(run())


if __name__ == "__main__":
    raise SystemExit(main())
