"""Outgoing mail: what it says, how it leaves, and the dispatcher that sends the outbox."""

import asyncio
from collections.abc import AsyncIterator

import structlog
from dependency_injector import containers, providers

from adapters.mail.console_notifier import ConsoleNotifier
from adapters.mail.smtp_notifier import SmtpNotifier
from application.mail.dispatch import MailDispatcher
from application.mail.templates import MailComposer
from entrypoints.config.settings import Settings
from entrypoints.container.lifecycle import Loop, supervised

log = structlog.get_logger()


def _log_mail_failure(error: BaseException) -> None:
    # The class only: an SMTP error message can quote the recipient or the server reply.
    log.warning("mail_dispatch_failed", error_type=type(error).__name__)


def _notifier_kind(settings: Settings) -> str:
    return "smtp" if settings.smtp_host else "console"


async def _dispatching(
    dispatcher: MailDispatcher, settings: Settings, wake: asyncio.Event
) -> AsyncIterator[object]:
    # Stopping is bounded: a send stuck on a dead mail server must not hold up shutdown.
    # The mail stays in the outbox and goes out after the next start.
    async with supervised(
        "mail-dispatcher",
        lambda: dispatcher.run_forever(settings.mail_dispatch_interval_seconds, wake),
    ) as task:
        yield task


class Mail(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    core = providers.DependenciesContainer()
    persistence = providers.DependenciesContainer()

    composer = providers.Singleton(
        MailComposer,
        providers.Callable(lambda s: s.effective_public_base_url, settings),
        settings.provided.public_name,
    )
    notifier = providers.Selector(
        providers.Callable(_notifier_kind, settings),
        smtp=providers.Singleton(
            SmtpNotifier,
            host=settings.provided.smtp_host,
            port=settings.provided.smtp_port,
            username=settings.provided.smtp_username,
            password=providers.Callable(
                lambda s: s.smtp_password.get_secret_value() if s.smtp_password else None,
                settings,
            ),
            starttls=settings.provided.smtp_starttls,
            mail_from=settings.provided.mail_from,
        ),
        console=providers.Singleton(
            ConsoleNotifier,
            # Bodies carry one-time links: shown in development only.
            show_body=providers.Callable(lambda s: s.environment.value != "production", settings),
        ),
    )
    wake = providers.Singleton(asyncio.Event)
    dispatcher = providers.Singleton(
        MailDispatcher,
        transactions=persistence.transactions.provider,
        notifier=notifier,
        clock=core.clock,
        on_error=providers.Object(_log_mail_failure),
    )
    dispatching = Loop(_dispatching, dispatcher, settings, wake)
