from dataclasses import dataclass, field

from application.errors import RegistrationDisabledError
from application.identity.accounts import AccountCreator, NewAccount
from application.identity.one_time_mail import OneTimeMail
from application.identity.throttle import Throttle
from domain.identity.user import User


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisterUserCommand:
    email: str
    username: str
    password: str = field(repr=False)
    full_name: str | None = None


@dataclass(frozen=True, slots=True)
class RegisterUser:
    """Create an account for a new person.

    - Refused (`forbidden`) when registration is disabled by settings.
    - Email is stored lower-cased; email and username are unique (`conflict` otherwise,
      also when two registrations race).
    - The password must meet the password rules (length, not the user's own name or
      email, not a common password).
    - Rate limited per client address (`rate_limited`).
    - When logins require a verified address, the verification link is mailed at once
      (the new user could not log in to ask for it).
    - New accounts hold the `user` role, are active and unverified.
    """

    accounts: AccountCreator
    throttle: Throttle
    mail: OneTimeMail
    registration_enabled: bool
    require_verified_email: bool

    async def execute(self, command: RegisterUserCommand) -> User:
        if not self.registration_enabled:
            raise RegistrationDisabledError()
        await self.throttle.registration()
        user = await self.accounts.create(
            NewAccount(
                email=command.email,
                username=command.username,
                password=command.password,
                full_name=command.full_name,
            )
        )
        if self.require_verified_email:
            await self.mail.send_verification(user.id, limited=False)
        return user
