"""`hexahub`: serve, migrate, create-admin."""

import argparse
import asyncio
import getpass
import os
import shutil
import signal
import sys
from types import FrameType

from dependency_injector import providers
from pydantic import ValidationError

from entrypoints.config.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hexahub", description="HexaHub identity service")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the HTTP API on HOST:PORT")
    serve.add_argument("--host", help="default: HOST or 127.0.0.1")
    serve.add_argument("--port", type=int, help="default: PORT or 8000")
    serve.add_argument("--workers", type=int, help="default: WORKERS or 1")

    commands.add_parser("migrate", help="apply database migrations up to the newest")

    admin = commands.add_parser("create-admin", help="create the first administrator")
    admin.add_argument("--email", default=os.environ.get("FIRST_ADMIN_EMAIL"))
    admin.add_argument("--username", default=os.environ.get("FIRST_ADMIN_USERNAME", "admin"))
    admin.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input instead of FIRST_ADMIN_PASSWORD or a prompt",
    )

    keys = commands.add_parser("keys", help="signing keys")
    keys_commands = keys.add_subparsers(dest="keys_command", required=True)
    keys_commands.add_parser(
        "rotate", help="add a new active signing key; running instances use it within 60 s"
    )

    args = parser.parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as error:
        problems = "\n".join(
            f"  {'.'.join(map(str, e['loc'])).upper() or 'settings'}: {e['msg']}"
            for e in error.errors(include_input=False, include_url=False)
        )
        print(f"hexahub: invalid configuration:\n{problems}", file=sys.stderr)
        return 2
    from entrypoints.logging import configure_logging

    # Here for the commands and for the parent of several workers; each worker process
    # configures its own in create_app.
    configure_logging(settings.log_level, settings.effective_log_format)
    if args.command == "serve":
        return _serve(settings, args)
    if args.command == "migrate":
        return _migrate(settings)
    if args.command == "keys":
        return _rotate_keys(settings)
    return _create_admin(settings, args)


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    workers = args.workers or settings.workers
    # Each worker reads its settings afresh; --workers must reach them (the cache, for
    # one, is off without Redis when several workers could disagree).
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
        log_config=None,  # create_app configures structlog for every worker
        access_log=False,  # one access line per request comes from our middleware
        server_header=False,
        proxy_headers=False,  # the client address comes from the socket only
        timeout_graceful_shutdown=settings.shutdown_timeout_seconds,
    )
    return 0


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def _migrate(settings: Settings) -> int:
    from adapters.sqlalchemy.migrations import upgrade_to_head
    from entrypoints.container import MEMORY_URL

    if settings.database_url == MEMORY_URL:
        print("hexahub: in-memory storage needs no migrations")
        return 0
    upgrade_to_head(settings.effective_database_url)
    print("hexahub: database is at the newest migration")
    return 0


def _rotate_keys(settings: Settings) -> int:
    from domain.errors import DomainError
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
            return 1
        finally:
            await stop(container)
        print(f"hexahub: now signing with {key.algorithm.value} key {key.kid}")
        return 0

    return asyncio.run(run())


def _create_admin(settings: Settings, args: argparse.Namespace) -> int:
    from application.use_cases.users.bootstrap_admin import BootstrapAdminCommand
    from domain.errors import DomainError
    from entrypoints.container import Container, start, stop

    if not args.email:
        print("hexahub: --email (or FIRST_ADMIN_EMAIL) is required", file=sys.stderr)
        return 2
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif settings.first_admin_password is not None:
        password = settings.first_admin_password.get_secret_value()
    else:
        password = getpass.getpass("Password for the administrator: ")

    async def run() -> int:
        container = Container(settings=providers.Object(settings))
        await start(container)
        try:
            created = await container.bootstrap_admin().execute(
                BootstrapAdminCommand(email=args.email, password=password, username=args.username)
            )
        except DomainError as error:
            print(f"hexahub: {error.message}", file=sys.stderr)
            return 1
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
