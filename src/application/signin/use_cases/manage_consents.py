from dataclasses import dataclass

from application.common.security import Principal
from application.common.use_case import Transactional
from domain.signin.authorization import Consent


@dataclass(frozen=True, slots=True)
class ListConsents(Transactional):
    """The third-party applications this person allowed, and for which scopes."""

    async def execute(self, principal: Principal) -> list[Consent]:
        async with self.uow_factory() as uow:
            return await uow.consents.list_for_user(principal.user_id)


@dataclass(frozen=True, slots=True)
class RevokeConsent(Transactional):
    """Withdraw a consent: the application must ask again next time. Tokens it already
    holds are not revoked here (sign the sessions out for that). Revoking a consent that
    does not exist does nothing (idempotent)."""

    async def execute(self, principal: Principal, client_id: str) -> None:
        async with self.uow_factory() as uow:
            consent = await uow.consents.get(principal.user_id, client_id)
            if consent is None:
                return
            consent.revoke(now=self.clock.now())
            await uow.consents.delete(principal.user_id, client_id)
            await uow.commit(actor_id=principal.user_id)
