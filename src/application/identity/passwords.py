"""Every rule a new password must pass, in one place for every path that sets one."""

from application.ports.password_blocklist import PasswordBlocklist
from domain.common.errors import WeakPasswordError
from domain.identity.password_policy import PasswordPolicy


class PasswordRules:
    """Length bounds, then "not built on your own name or email", then "not a common password"
    (NIST SP 800-63B §5.1.1.2: compare against commonly used and context-specific
    words). All checked before any hashing."""

    def __init__(self, policy: PasswordPolicy, blocklist: PasswordBlocklist) -> None:
        self._policy = policy
        self._blocklist = blocklist

    def check(self, password: str, *, email: str, username: str, field: str = "password") -> None:
        self._policy.check(password, field=field)
        # The account's own name adds nothing an attacker does not already know, so what
        # is left without it must meet the length floor by itself. Refusing any password
        # that merely contains the name would refuse sound passphrases for short, common
        # names (the default `admin` turned down "Admin of the violet harbor").
        rest = password.lower()
        local_part = email.split("@", 1)[0].lower()
        for word in (email.lower(), local_part, username.lower()):  # longest first
            if len(word) >= 3:
                rest = rest.replace(word, "")
        if len(rest) < self._policy.min_length:
            raise WeakPasswordError(
                "password is too close to your username or email address", field=field
            )
        if self._blocklist.contains(password) or self._blocklist.contains(rest):
            raise WeakPasswordError("password is too common; choose another", field=field)
