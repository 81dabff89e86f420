from dataclasses import dataclass
from uuid import UUID

from application.common.security import Principal
from application.common.use_case import Transactional
from application.errors import (
    ConflictError,
    PermissionDeniedError,
    UnknownProviderError,
    UserNotFoundError,
)
from application.ports.identity_providers import UpstreamIdentity
from domain.access.permissions import Permission
from domain.common.errors import InvalidValueError
from domain.signin.external import ExternalIdentity


@dataclass(frozen=True, slots=True)
class LinkExternalIdentity(Transactional):
    """Link an upstream identity to the account of a person who has just proved its
    password (the caller ran `LogIn` for that account in this same sign-in). Only when
    the provider said the email is verified and it is the account's email: otherwise
    `forbidden`. Audited as `external_identity.linked` (`password`)."""

    async def execute(self, user_id: UUID, upstream: UpstreamIdentity) -> None:
        async with self.uow_factory() as uow:
            user = await uow.users.get(user_id)
            if (
                user is None
                or not upstream.email_verified
                or upstream.email is None
                or upstream.email.strip().lower() != str(user.email).lower()
            ):
                raise PermissionDeniedError("this provider's account cannot be linked here")
            if await uow.external_identities.get(upstream.provider, upstream.subject):
                raise ConflictError("this provider's account is already linked")
            await uow.external_identities.add(
                ExternalIdentity.link(
                    provider=upstream.provider,
                    subject=upstream.subject,
                    user_id=user.id,
                    email=upstream.email,
                    now=self.clock.now(),
                    how="password",
                )
            )
            await uow.commit(actor_id=user.id)


@dataclass(frozen=True, slots=True)
class ListExternalIdentities(Transactional):
    """The external accounts that sign in as yours."""

    async def execute(self, principal: Principal) -> list[ExternalIdentity]:
        async with self.uow_factory() as uow:
            return await uow.external_identities.list_for_user(principal.user_id)


@dataclass(frozen=True, slots=True)
class UnlinkExternalIdentity(Transactional):
    """Remove one of your links (idempotent). An account made by a first external
    sign-in has no password: set one (password reset) before removing its last link,
    or it can no longer be entered; that is refused (`conflict`)."""

    async def execute(self, principal: Principal, provider: str, subject: str) -> None:
        async with self.uow_factory() as uow:
            link = await uow.external_identities.get(provider, subject)
            if link is None or link.user_id != principal.user_id:
                return
            others = await uow.external_identities.list_for_user(principal.user_id)
            user = await uow.users.get(principal.user_id)
            if user is not None and user.password_hash is None and len(others) <= 1:
                raise ConflictError("set a password before removing the last sign-in link")
            link.unlink(now=self.clock.now())
            await uow.external_identities.delete(provider, subject)
            await uow.commit(actor_id=principal.user_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class AdminLinkCommand:
    user_id: UUID
    provider: str
    subject: str


@dataclass(frozen=True, slots=True)
class AdminLinkExternalIdentity(Transactional):
    """An administrator (`users:write`, in a login session) links a provider's account to
    a local one: the way for a person whose provider does not confirm the email. The
    provider must be configured; a taken link is `conflict`, an unknown user
    `not_found`. Audited as `external_identity.linked` (`administrator`), by the
    administrator."""

    known_providers: frozenset[str]

    async def execute(self, principal: Principal, command: AdminLinkCommand) -> ExternalIdentity:
        principal.require(Permission.USERS_WRITE)
        principal.require_session()
        if command.provider not in self.known_providers:
            raise UnknownProviderError()
        if not command.subject or len(command.subject) > 255:
            raise InvalidValueError("subject must be 1 to 255 characters")
        async with self.uow_factory() as uow:
            user = await uow.users.get(command.user_id)
            if user is None:
                raise UserNotFoundError()
            link = ExternalIdentity.link(
                provider=command.provider,
                subject=command.subject,
                user_id=user.id,
                email=None,
                now=self.clock.now(),
                how="administrator",
            )
            await uow.external_identities.add(link)
            await uow.commit(actor_id=principal.actor_id)
        return link
