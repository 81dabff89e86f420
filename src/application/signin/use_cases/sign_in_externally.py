import re
import secrets
from dataclasses import dataclass

from application.common.use_case import Transactional
from application.errors import ConflictError, InvalidCredentialsError
from application.identity.sessions import SessionOpener
from application.identity.token_pairs import TokenPair
from application.ports.email_normaliser import EmailNormaliser
from application.ports.id_generator import IdGenerator
from application.ports.identity_providers import UpstreamIdentity
from application.ports.unit_of_work import UnitOfWork
from domain.common.errors import InvalidValueError
from domain.identity.user import User
from domain.identity.value_objects import Email, Username
from domain.signin.external import ExternalIdentity


@dataclass(frozen=True, slots=True, kw_only=True)
class ExternallySignedIn:
    pair: TokenPair
    created: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkRequired:
    """An account with this email exists: the provider's word is not enough to enter
    it. With `can_link`, the person may prove the local password to link; without
    (the provider did not say the email is verified), only an administrator can."""

    email: str
    can_link: bool


@dataclass(frozen=True, slots=True)
class SignInExternally(Transactional):
    """Sign a person in with a verified upstream identity.

    - A linked (provider, subject) signs in as its account, if active.
    - Otherwise, when no account has the upstream email, a first sign-in creates one:
      no password, `oauth_provider` set to the provider's name, verified only when the
      provider says so, a username derived from the email. Audited as
      `external_identity.linked` (`created`).
    - An account with the same email is never entered on the provider's word:
      `LinkRequired` (linking needs the provider's `email_verified` and the local
      password, see `LinkExternalIdentity`).
    - An upstream identity without an email cannot create an account (we could never
      tell it from an existing one): `invalid_credentials`.
    """

    opener: SessionOpener
    ids: IdGenerator
    emails: EmailNormaliser

    async def execute(
        self, upstream: UpstreamIdentity, *, ip: str | None, user_agent: str | None
    ) -> ExternallySignedIn | LinkRequired:
        email = self._email(upstream)
        async with self.uow_factory() as uow:
            link = await uow.external_identities.get(upstream.provider, upstream.subject)
            if link is not None:
                user = await uow.users.get(link.user_id, for_update=True)
                if user is None or not user.is_active:
                    raise InvalidCredentialsError()
                pair = await self.opener.open(uow, user, ip=ip, user_agent=user_agent)
                await uow.commit(actor_id=user.id)
                return ExternallySignedIn(pair=pair, created=False)
            if email is None:
                raise InvalidCredentialsError()
            if await uow.users.get_by_email(email) is not None:
                return LinkRequired(email=email.value, can_link=upstream.email_verified)
            now = self.clock.now()
            user = User.register(
                id=self.ids.new_id(),
                email=email,
                username=await self._free_username(uow, email),
                full_name=None,
                password_hash=None,
                now=now,
                is_verified=upstream.email_verified,
                oauth_provider=upstream.provider,
            )
            await uow.users.add(user)
            await uow.external_identities.add(
                ExternalIdentity.link(
                    provider=upstream.provider,
                    subject=upstream.subject,
                    user_id=user.id,
                    email=email.value,
                    now=now,
                    how="created",
                )
            )
            pair = await self.opener.open(uow, user, ip=ip, user_agent=user_agent)
            await uow.commit(actor_id=user.id)
        return ExternallySignedIn(pair=pair, created=True)

    def _email(self, upstream: UpstreamIdentity) -> Email | None:
        if upstream.email is None:
            return None
        try:
            return self.emails.normalise(upstream.email)
        except InvalidValueError:
            return None

    @staticmethod
    async def _free_username(uow: UnitOfWork, email: Email) -> Username:
        base = re.sub(r"[^a-z0-9._-]", "", email.value.partition("@")[0].lower()).strip("._-")
        base = (base or "user")[:20].rstrip("._-") or "user"
        for _ in range(5):
            candidate = Username(f"{base}-{secrets.token_hex(3)}")
            if await uow.users.get_by_username(candidate) is None:
                return candidate
        raise ConflictError("no free username")
