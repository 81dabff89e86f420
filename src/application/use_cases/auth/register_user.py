from dataclasses import dataclass, field

from application.accounts import AccountCreator, NewAccount
from application.errors import RegistrationDisabledError
from domain.user import User


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisterUserCommand:
    email: str
    username: str
    password: str = field(repr=False)
    full_name: str | None = None


class RegisterUser:
    """Create an account for a new person.

    - Refused (`forbidden`) when registration is disabled by settings.
    - Email is stored lower-cased; email and username are unique (`conflict` otherwise,
      also when two registrations race).
    - The password must meet the password policy.
    - New accounts hold the `user` role, are active and unverified.
    """

    def __init__(self, accounts: AccountCreator, *, registration_enabled: bool) -> None:
        self._accounts = accounts
        self._enabled = registration_enabled

    async def execute(self, command: RegisterUserCommand) -> User:
        if not self._enabled:
            raise RegistrationDisabledError()
        return await self._accounts.create(
            NewAccount(
                email=command.email,
                username=command.username,
                password=command.password,
                full_name=command.full_name,
            )
        )
