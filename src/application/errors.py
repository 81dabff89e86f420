"""Application errors: what a use case can refuse, each with a stable machine code.

Entrypoints map these classes to transport status codes in one table.
"""

from domain.common.errors import DomainError, InvalidValueError


class ApplicationError(DomainError):
    code = "application_error"


class NotFoundError(ApplicationError):
    code = "not_found"
    default_message = "resource not found"


class UserNotFoundError(NotFoundError):
    default_message = "user not found"


class SessionNotFoundError(NotFoundError):
    default_message = "session not found"


class ConflictError(ApplicationError):
    code = "conflict"
    default_message = "the request conflicts with the current state"


class EmailAlreadyRegisteredError(ConflictError):
    default_message = "email already registered"


class UsernameTakenError(ConflictError):
    default_message = "username already taken"


class LastAdministratorError(ConflictError):
    default_message = "the last active administrator cannot be removed, demoted or deactivated"


class ConcurrentUpdateError(ConflictError):
    default_message = "the account changed while the request ran; try again"


class AuthenticationError(ApplicationError):
    """Who is calling could not be established."""

    code = "unauthorized"
    default_message = "authentication required"


class InvalidCredentialsError(AuthenticationError):
    """Same code and message for unknown users and wrong passwords (no enumeration)."""

    code = "invalid_credentials"
    default_message = "invalid username or password"


class InvalidTokenError(AuthenticationError):
    """An access or refresh token is malformed, forged, expired or revoked."""

    code = "invalid_token"
    default_message = "the token is invalid, expired or revoked"


class RefreshTokenReuseError(InvalidTokenError):
    default_message = "refresh token was already used; the session has been revoked"


class PermissionDeniedError(ApplicationError):
    code = "forbidden"
    default_message = "you do not have permission to do this"


class RegistrationDisabledError(PermissionDeniedError):
    default_message = "registration is disabled"


class InvalidCurrentPasswordError(InvalidValueError):
    """The current password given to a password change was wrong. A 400, not a 401: the
    caller's token is fine, and clients must not take this for "log in again"."""

    code = "bad_request"
    field = "current_password"
    detail_type = "invalid_current_password"

    def __init__(self, message: str = "current password is incorrect") -> None:
        super().__init__(message)


class ReauthenticationRequiredError(InvalidCurrentPasswordError):
    """A sensitive change by an account without a password (it signs in elsewhere) needs
    a sign-in within the last few minutes; this session's is older. Sign in again."""

    detail_type = "reauthentication_required"

    def __init__(self, message: str = "sign in again to make this change") -> None:
        super().__init__(message)


class ServiceUnavailableError(ApplicationError):
    """A dependency cannot serve now; the caller may retry after `retry_after` seconds."""

    code = "service_unavailable"
    default_message = "a dependency is unavailable; try again shortly"
    retry_after = 5


class StorageUnavailableError(ServiceUnavailableError):
    default_message = "the database is unavailable; try again shortly"


class BusyError(ServiceUnavailableError):
    """The service itself is saturated (a full pool or queue), not a dependency down:
    503 with a short `retry_after`, and no circuit breaker counts it as a failure."""

    default_message = "the service is busy; try again shortly"
    retry_after = 1


class StorageBusyError(StorageUnavailableError, BusyError):
    """Every pooled database connection stayed in use for the whole wait: back-pressure
    from load, not a database failure."""

    default_message = "the service is busy; try again shortly"


class CacheUnavailableError(ServiceUnavailableError):
    default_message = "the token store is unavailable; try again shortly"


class HasherBusyError(BusyError):
    """Too many password hashes queued: refuse fast rather than pile up memory."""


class RoleNotFoundError(NotFoundError):
    default_message = "role not found"


class ApiKeyNotFoundError(NotFoundError):
    default_message = "API key not found"


class RoleExistsError(ConflictError):
    default_message = "a role with that name already exists"


class EmailNotVerifiedError(PermissionDeniedError):
    """Login refused until the address is verified (when REQUIRE_VERIFIED_EMAIL is on)."""

    code = "email_not_verified"
    default_message = "verify your email address before logging in"


class SessionRequiredError(PermissionDeniedError):
    """An API key cannot do what only a person in a login session may (change the
    password, manage sessions, create keys)."""

    default_message = "this action needs a login session, not an API key"


class InvalidOneTimeTokenError(ApplicationError):
    """A verification or reset token that is unknown, used, expired or outdated."""

    code = "invalid_token"
    default_message = "the link is invalid or has expired"


class RateLimitedError(ApplicationError):
    code = "rate_limited"
    default_message = "too many requests; slow down"

    def __init__(self, *, limit: int, remaining: int, reset_seconds: int, retry_after: int) -> None:
        super().__init__()
        self.limit = limit
        self.remaining = remaining
        self.reset_seconds = reset_seconds
        self.retry_after = retry_after


class NotifierUnavailableError(ServiceUnavailableError):
    default_message = "mail could not be sent; it will be retried"


class InvalidClientError(AuthenticationError):
    """Client authentication failed (RFC 6749 §5.2 `invalid_client`)."""

    code = "invalid_client"
    default_message = "client authentication failed"


class InvalidScopeError(ApplicationError):
    """A requested scope exceeds what the client was granted (RFC 6749 §5.2)."""

    code = "invalid_scope"
    default_message = "the requested scope is not allowed for this client"


class ServiceClientNotFoundError(NotFoundError):
    default_message = "client not found"


class MfaRequiredError(AuthenticationError):
    """The password was right but the account has a second factor: no tokens yet. The
    caller completes the login at `POST /auth/mfa/verify` with `mfa_token` (short-lived,
    good for nothing else) and a code."""

    code = "mfa_required"
    default_message = "a second factor is required to complete the login"

    def __init__(self, mfa_token: str) -> None:
        super().__init__()
        self.mfa_token = mfa_token


class InvalidMfaCodeError(InvalidValueError):
    """A TOTP or recovery code given to a signed-in caller (confirming or disabling MFA)
    was wrong or already used. A 400, not a 401: the caller's token is fine."""

    code = "bad_request"
    field = "code"
    detail_type = "invalid_mfa_code"

    def __init__(self, message: str = "the code is invalid or was already used") -> None:
        super().__init__(message)


class MfaAlreadyEnabledError(ConflictError):
    default_message = "two-factor authentication is already on; disable it first"


class MfaNotEnabledError(ConflictError):
    default_message = "two-factor authentication is not on"


class MfaSetupNotStartedError(ConflictError):
    default_message = "no TOTP setup is pending; start one first"


# --- The releases context ---------------------------------------------------------


class ReleaseNotFoundError(NotFoundError):
    default_message = "release not found"


class EnvironmentNotFoundError(NotFoundError):
    default_message = "environment not found"


class DeploymentNotFoundError(NotFoundError):
    default_message = "deployment not found"


class ReleaseExistsError(ConflictError):
    default_message = "rule unique-release: a release with this name and version exists"


class EnvironmentExistsError(ConflictError):
    default_message = "an environment with this name exists"


class IdempotencyKeyInUseError(ConflictError):
    """Another request with the same idempotency key committed first (a concurrent
    retry): the caller reads that request's answer instead."""

    default_message = "a request with this idempotency key is being processed"


class IdempotencyKeyReusedError(InvalidValueError):
    """The same `Idempotency-Key` came with another body: a client bug, never a retry."""

    field = "Idempotency-Key"
    location = "header"

    def __init__(self) -> None:
        super().__init__("this Idempotency-Key was used with another request body")


class WebhookNotFoundError(NotFoundError):
    default_message = "webhook not found"


class UnsafeWebhookTargetError(InvalidValueError):
    """A webhook URL that must not be called (SSRF protection, or http in production)."""

    field = "url"


class InvalidGrantError(AuthenticationError):
    """An authorization code that is unknown, expired, used, issued to another client or
    for another redirect URI, or whose PKCE verifier does not match (RFC 6749 §5.2)."""

    code = "invalid_grant"
    default_message = "the authorization code is invalid"


class UnauthorizedClientError(ApplicationError):
    """The client may not use this grant type (RFC 6749 §5.2 `unauthorized_client`)."""

    code = "unauthorized_client"
    default_message = "this client may not use this grant type"


class UnknownProviderError(NotFoundError):
    default_message = "no such identity provider"


class UpstreamUnavailableError(ServiceUnavailableError):
    """An external identity provider is down or answered nonsense."""

    code = "upstream_unavailable"
    default_message = "the identity provider cannot be reached; try again later"


class UpstreamRejectedError(AuthenticationError):
    """The external provider refused the code, or its id_token did not verify."""

    code = "upstream_rejected"
    default_message = "the identity provider's answer could not be verified"
