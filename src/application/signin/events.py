"""How browser sign-in's events leave the service (see `application.events.catalog`).
Consents are the person's own business (topic `account`); a replayed code is audited
and relayed for operators (topic `system`)."""

from application.events.catalog import ACCOUNT, SYSTEM, EventSpec, EventTable, no_account
from domain.signin.events import (
    AuthorizationCodeReplayed,
    ConsentGranted,
    ConsentRevoked,
    ExternalIdentityLinked,
    ExternalIdentityUnlinked,
)

SIGNIN_EVENTS: EventTable = {
    ConsentGranted: EventSpec(name="consent.granted", topic=ACCOUNT, subject=lambda e: e.client_id),
    ConsentRevoked: EventSpec(name="consent.revoked", topic=ACCOUNT, subject=lambda e: e.client_id),
    ExternalIdentityLinked: EventSpec(
        name="external_identity.linked", topic=ACCOUNT, subject=lambda e: e.provider
    ),
    ExternalIdentityUnlinked: EventSpec(
        name="external_identity.unlinked", topic=ACCOUNT, subject=lambda e: e.provider
    ),
    AuthorizationCodeReplayed: EventSpec(
        name="authorization_code.replayed",
        topic=SYSTEM,
        subject=lambda e: e.client_id,
        account=no_account,
    ),
}
