"""The mails the service writes. Links are built from the configured public address,
never from the request's Host or forwarded headers (a forged Host must not be able to
point a reset link at an attacker's site)."""

from datetime import datetime, timedelta
from urllib.parse import quote

from domain.mail.messages import MailMessage


class MailComposer:
    def __init__(self, public_base_url: str, service_name: str = "HexaHub") -> None:
        self._base = public_base_url.rstrip("/")
        self._service = service_name

    def verification(self, to: str, token: str, valid_for: timedelta) -> MailMessage:
        link = f"{self._base}/verify-email?token={quote(token)}"
        return MailMessage(
            to=to,
            subject=f"Verify your email address for {self._service}",
            text=(
                f"Confirm that this address is yours by opening:\n\n{link}\n\n"
                f"or by submitting this code: {token}\n\n"
                f"The link works once and expires in {_hours(valid_for)}. "
                "If you did not ask for it, ignore this mail."
            ),
        )

    def password_reset(self, to: str, token: str, valid_for: timedelta) -> MailMessage:
        link = f"{self._base}/reset-password?token={quote(token)}"
        return MailMessage(
            to=to,
            subject=f"Reset your {self._service} password",
            text=(
                f"Choose a new password by opening:\n\n{link}\n\n"
                f"or by submitting this code: {token}\n\n"
                f"The link works once and expires in {_hours(valid_for)}. Every session "
                "of your account will be signed out. If you did not ask for this, ignore "
                "this mail: your password stays as it is."
            ),
        )

    def account_changed(
        self, to: str, *, username: str, changes: list[str], when: datetime
    ) -> MailMessage:
        """A notice to the address the account had before the change (OWASP ASVS 5.0
        V6.3.7: tell the user of changes to what they sign in or recover with). It
        carries no link that acts: if the change was not the owner's, the password
        is known to someone else, and only an administrator can put the address back."""
        listed = "\n".join(f"- {change}" for change in changes)
        return MailMessage(
            to=to,
            subject=f"Your {self._service} account was changed",
            text=(
                f"These changes were made to the {self._service} account {username} on "
                f"{when:%Y-%m-%d at %H:%M} UTC:\n\n{listed}\n\n"
                "If you made them, there is nothing to do. If you did not, someone knows "
                "your password and is signed in as you. Contact your administrator at "
                "once: they can restore your address, end every session and lock the "
                "account. Password resets now go to the new address, not to this one. "
                f"Once your address is back, reset your password at "
                f"{self._base}/reset-password and turn on two-factor authentication."
            ),
        )


def _hours(period: timedelta) -> str:
    hours = period.total_seconds() / 3600
    return f"{hours:g} hour" + ("" if hours == 1 else "s")
