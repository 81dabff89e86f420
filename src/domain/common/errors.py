"""Domain errors: broken business rules, each with a stable machine code.

Errors never carry an HTTP status; the entrypoint maps codes to transport status.
"""


class DomainError(Exception):
    """Base of every error HexaHub raises on purpose."""

    code = "domain_error"

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)

    default_message = "the request breaks a business rule"


class InvalidValueError(DomainError):
    """A value object refused its input. `field` names the input it came from."""

    code = "validation_error"
    field = "value"
    detail_type = "value_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        if field is not None:
            self.field = field


class InvalidEmailError(InvalidValueError):
    field = "email"


class InvalidUsernameError(InvalidValueError):
    field = "username"


class InvalidFullNameError(InvalidValueError):
    field = "full_name"


class WeakPasswordError(InvalidValueError):
    field = "password"


class UnknownRoleError(InvalidValueError):
    field = "roles"
