"""Every rule a new password must pass, in one place for every path that sets one."""

from application.ports.password_blocklist import PasswordBlocklist
from domain.errors import WeakPasswordError
from domain.password_policy import PasswordPolicy


class PasswordRules:
    """Length bounds, then "not your own name or email", then "not a common password"
    (NIST SP 800-63B §5.1.1.2: compare against commonly used and context-specific
    words). All checked before any hashing."""

    def __init__(self, policy: PasswordPolicy, blocklist: PasswordBlocklist) -> None:
        self._policy = policy
        self._blocklist = blocklist

    def check(self, password: str, *, email: str, username: str, field: str = "password") -> None:
        self._policy.check(password, field=field)
        lowered = password.lower()
        local_part = email.split("@", 1)[0].lower()
        for word in (username.lower(), local_part, email.lower()):
            if len(word) >= 3 and word in lowered:
                raise WeakPasswordError(
                    "password must not contain your username or email address", field=field
                )
        if self._blocklist.contains(password):
            raise WeakPasswordError("password is too common; choose another", field=field)
