"""Two-factor authentication with an authenticator app: enrolling (setup, confirm),
logging in in two steps (password, then a code or a recovery code), turning it off;
codes work once, guesses lock the account like wrong passwords, every step is audited."""

import hashlib
import re
from collections.abc import Callable
from datetime import timedelta

import pytest

from application.access.use_cases.authenticate_api_key import AuthenticateApiKeyCommand
from application.access.use_cases.manage_api_keys import CreateApiKeyCommand
from application.common.security import Principal
from application.errors import (
    AuthenticationError,
    ConflictError,
    InvalidCredentialsError,
    InvalidCurrentPasswordError,
    InvalidMfaCodeError,
    InvalidTokenError,
    MfaAlreadyEnabledError,
    MfaNotEnabledError,
    MfaRequiredError,
    MfaSetupNotStartedError,
    RateLimitedError,
    SessionRequiredError,
)
from application.identity.attempts import LoginPolicy
from application.identity.throttle import Rate, ThrottlePolicy
from application.identity.use_cases.confirm_totp import ConfirmTotpCommand
from application.identity.use_cases.disable_totp import DisableTotpCommand
from application.identity.use_cases.log_in import LogIn
from application.identity.use_cases.setup_totp import SetupTotpCommand
from application.identity.use_cases.update_user import UpdateUserCommand
from application.identity.use_cases.verify_mfa import VerifyMfaCommand
from application.ports.request_context import RequestMeta
from application.tokens.use_cases.authenticate import AuthenticateCommand
from domain.audit.entries import Outcome
from domain.identity.mfa import TotpFactor
from tests.unit.application.conftest import PASSWORD, App
from tests.unit.application.steps import (
    audit_rows,
    enrolled,
    mfa_challenge,
    totp_code,
)

WRONG = "not the password"
RECOVERY_CODE = re.compile(r"^[a-hj-km-np-z2-9]{4}-[a-hj-km-np-z2-9]{4}-[a-hj-km-np-z2-9]{4}$")


SETUP = SetupTotpCommand(current_password=PASSWORD)


def locking_after(threshold: int) -> LoginPolicy:
    return LoginPolicy(lockout_threshold=threshold, lockout_base=timedelta(minutes=1))


async def stored_factor(app: App, user_id: object) -> TotpFactor | None:
    async with app.uow() as uow:
        return await uow.mfa.get(user_id)  # type: ignore[arg-type]


async def verify(app: App, mfa_token: str, code: str) -> Principal:
    pair = await app.verify_mfa.execute(VerifyMfaCommand(mfa_token=mfa_token, code=code))
    return await app.principal_for(pair)


async def key_principal(app: App, principal: Principal) -> Principal:
    issued = await app.create_api_key.execute(
        principal, CreateApiKeyCommand(name="k", scopes=[], current_password=PASSWORD)
    )
    return await app.authenticate_api_key.execute(AuthenticateApiKeyCommand(key=issued.secret))


async def failed_logins(app: App, principal: Principal) -> int:
    user = await app.stored_user(principal.user_id)
    assert user is not None
    return user.failed_logins


# --- setup -----------------------------------------------------------------------------------


async def test_setup_hands_out_a_seed_its_otpauth_uri_and_a_qr_code(app: App) -> None:
    ada = await app.signed_in("ada")

    setup = await app.setup_totp.execute(ada, SETUP)

    assert re.fullmatch(r"[A-Z2-7]{32}", setup.secret)
    assert setup.otpauth_uri.startswith("otpauth://totp/")
    assert f"secret={setup.secret}" in setup.otpauth_uri
    assert "issuer=HexaHub%20Test" in setup.otpauth_uri
    assert "ada%40example.com" in setup.otpauth_uri
    assert setup.qr_svg.startswith("<svg")
    assert setup.secret not in repr(setup)


async def test_a_pending_setup_protects_nothing_yet(app: App) -> None:
    ada = await app.signed_in("ada")
    await app.setup_totp.execute(ada, SETUP)

    await app.log_in_as("ada")  # tokens, no challenge

    factor = await stored_factor(app, ada.user_id)
    assert factor is not None
    assert not factor.is_enabled


async def test_setting_up_again_replaces_the_pending_seed(app: App) -> None:
    ada = await app.signed_in("ada")
    first = await app.setup_totp.execute(ada, SETUP)
    second = await app.setup_totp.execute(ada, SETUP)
    assert first.secret != second.secret

    with pytest.raises(InvalidMfaCodeError):
        await app.confirm_totp.execute(ada, ConfirmTotpCommand(code=totp_code(app, first.secret)))
    await app.confirm_totp.execute(ada, ConfirmTotpCommand(code=totp_code(app, second.secret)))


async def test_setup_with_mfa_already_on_is_a_conflict(app: App) -> None:
    ada = await enrolled(app, "ada")

    with pytest.raises(MfaAlreadyEnabledError) as refused:
        await app.setup_totp.execute(ada.principal, SETUP)

    assert isinstance(refused.value, ConflictError)
    factor = await stored_factor(app, ada.principal.user_id)
    assert factor is not None
    assert factor.secret == ada.secret


async def test_mfa_is_managed_from_a_login_session_never_with_an_api_key(app: App) -> None:
    ada = await app.signed_in("ada")
    key = await key_principal(app, ada)

    with pytest.raises(SessionRequiredError):
        await app.setup_totp.execute(key, SETUP)
    setup = await app.setup_totp.execute(ada, SETUP)
    with pytest.raises(SessionRequiredError):
        await app.confirm_totp.execute(key, ConfirmTotpCommand(code=totp_code(app, setup.secret)))
    await app.confirm_totp.execute(ada, ConfirmTotpCommand(code=totp_code(app, setup.secret)))
    app.clock.advance(seconds=30)
    with pytest.raises(SessionRequiredError):
        await app.disable_totp.execute(
            key,
            DisableTotpCommand(current_password=PASSWORD, code=totp_code(app, setup.secret)),
        )


# --- confirm ---------------------------------------------------------------------------------


async def test_confirming_turns_mfa_on_and_shows_ten_recovery_codes_once(app: App) -> None:
    ada = await app.signed_in("ada")
    setup = await app.setup_totp.execute(ada, SETUP)

    codes = await app.confirm_totp.execute(
        ada, ConfirmTotpCommand(code=totp_code(app, setup.secret))
    )

    assert len(codes.codes) == 10
    assert len(set(codes.codes)) == 10
    assert all(RECOVERY_CODE.match(code) for code in codes.codes)
    factor = await stored_factor(app, ada.user_id)
    assert factor is not None
    assert factor.is_enabled
    # Stored as SHA-256 digests only.
    assert factor.recovery_code_hashes == {
        hashlib.sha256(code.encode()).hexdigest() for code in codes.codes
    }
    assert "MfaEnabled" in app.event_names()
    [row] = await audit_rows(app, action="mfa.enabled")
    assert (row.actor_id, row.target_id, row.outcome) == (
        ada.user_id,
        str(ada.user_id),
        Outcome.SUCCESS,
    )


async def test_a_wrong_code_does_not_confirm_and_the_setup_stays_pending(app: App) -> None:
    ada = await app.signed_in("ada")
    setup = await app.setup_totp.execute(ada, SETUP)
    wrong = totp_code(app, setup.secret, steps=5)

    with pytest.raises(InvalidMfaCodeError) as refused:
        await app.confirm_totp.execute(ada, ConfirmTotpCommand(code=wrong))

    assert (refused.value.code, refused.value.field) == ("bad_request", "code")
    factor = await stored_factor(app, ada.user_id)
    assert factor is not None
    assert factor.secret == setup.secret
    assert not factor.is_enabled
    assert await failed_logins(app, ada) == 1  # counted like a wrong password
    [row] = await audit_rows(app, action="mfa.enable")
    assert (row.outcome, row.details) == (Outcome.FAILURE, {"reason": "invalid_code"})
    # Trying again with the right code works.
    await app.confirm_totp.execute(ada, ConfirmTotpCommand(code=totp_code(app, setup.secret)))


async def test_confirming_without_a_setup_or_twice_is_a_conflict(app: App) -> None:
    ada = await app.signed_in("ada")
    with pytest.raises(MfaSetupNotStartedError):
        await app.confirm_totp.execute(ada, ConfirmTotpCommand(code="123456"))
    assert await failed_logins(app, ada) == 0  # a state error is no guess

    bob = await enrolled(app, "bob")
    with pytest.raises(MfaAlreadyEnabledError):
        await app.confirm_totp.execute(
            bob.principal, ConfirmTotpCommand(code=totp_code(app, bob.secret))
        )


async def test_the_code_that_confirmed_cannot_also_complete_a_login(app: App) -> None:
    ada = await app.signed_in("ada")
    setup = await app.setup_totp.execute(ada, SETUP)
    code = totp_code(app, setup.secret)
    await app.confirm_totp.execute(ada, ConfirmTotpCommand(code=code))

    token = await mfa_challenge(app, "ada")

    with pytest.raises(InvalidCredentialsError):
        await verify(app, token, code)


# --- the two-step login ----------------------------------------------------------------------


async def test_with_mfa_on_a_right_password_earns_a_challenge_not_tokens(app: App) -> None:
    ada = await enrolled(app, "ada")
    async with app.uow() as uow:
        before = await uow.sessions.list_active_for_user(ada.principal.user_id, now=app.clock.now())

    with pytest.raises(MfaRequiredError) as challenge:
        await app.log_in_as("ada")

    assert isinstance(challenge.value, AuthenticationError)
    assert challenge.value.code == "mfa_required"
    assert challenge.value.mfa_token
    async with app.uow() as uow:
        after = await uow.sessions.list_active_for_user(ada.principal.user_id, now=app.clock.now())
    assert after == before
    rows = await audit_rows(app, action="auth.login")
    assert (rows[0].outcome, rows[0].details) == (Outcome.FAILURE, {"reason": "mfa_required"})


async def test_a_wrong_password_is_refused_as_always_without_a_challenge(app: App) -> None:
    await enrolled(app, "ada")

    with pytest.raises(InvalidCredentialsError) as refused:
        await app.log_in_as("ada", password=WRONG)

    assert not isinstance(refused.value, MfaRequiredError)


async def test_the_challenge_and_a_code_from_the_app_open_a_session(app: App) -> None:
    ada = await enrolled(app, "ada")
    token = await mfa_challenge(app, "ada")
    app.context.meta = RequestMeta(ip="198.51.100.1", user_agent="phone", request_id="r2")

    pair = await app.verify_mfa.execute(
        VerifyMfaCommand(
            mfa_token=token, code=totp_code(app, ada.secret), ip="198.51.100.1", user_agent="phone"
        )
    )

    principal = await app.principal_for(pair)
    assert principal.user_id == ada.principal.user_id
    session = await app.stored_session(pair.session_id)
    assert session is not None
    assert (session.ip, session.user_agent) == ("198.51.100.1", "phone")
    user = await app.stored_user(ada.principal.user_id)
    assert user is not None
    assert user.last_login_at == app.clock.now()
    [passed] = await audit_rows(app, action="auth.mfa_passed")
    assert (passed.actor_id, passed.details) == (ada.principal.user_id, {"method": "totp"})
    logins = await audit_rows(app, action="auth.login")
    assert logins[0].outcome is Outcome.SUCCESS
    assert logins[0].details == {"session_id": str(pair.session_id)}


async def test_codes_from_one_step_either_side_are_accepted(app: App) -> None:
    ada = await enrolled(app, "ada")
    app.clock.advance(seconds=60)  # well past the step used to confirm

    await verify(app, await mfa_challenge(app, "ada"), totp_code(app, ada.secret, steps=-1))
    await verify(app, await mfa_challenge(app, "ada"), totp_code(app, ada.secret, steps=1))
    app.clock.advance(seconds=180)  # steps used so far are all behind the ones tried next
    for far in (-2, 2):
        with pytest.raises(InvalidCredentialsError):
            await verify(
                app, await mfa_challenge(app, "ada"), totp_code(app, ada.secret, steps=far)
            )


async def test_a_code_is_accepted_once_and_never_replayed(app: App) -> None:
    ada = await enrolled(app, "ada")
    code = totp_code(app, ada.secret)
    await verify(app, await mfa_challenge(app, "ada"), code)

    with pytest.raises(InvalidCredentialsError) as replayed:
        await verify(app, await mfa_challenge(app, "ada"), code)

    assert replayed.value.code == "invalid_credentials"
    rows = await audit_rows(app, action="auth.mfa")
    assert (rows[0].outcome, rows[0].details) == (Outcome.FAILURE, {"reason": "invalid_code"})


async def test_an_older_code_is_refused_once_a_newer_one_was_used(app: App) -> None:
    ada = await enrolled(app, "ada")
    older = totp_code(app, ada.secret)
    await verify(app, await mfa_challenge(app, "ada"), totp_code(app, ada.secret, steps=1))

    with pytest.raises(InvalidCredentialsError):
        await verify(app, await mfa_challenge(app, "ada"), older)


async def test_a_recovery_code_completes_a_login_once(app: App) -> None:
    ada = await enrolled(app, "ada")
    code = ada.recovery_codes[3]

    await verify(app, await mfa_challenge(app, "ada"), code)

    with pytest.raises(InvalidCredentialsError):
        await verify(app, await mfa_challenge(app, "ada"), code)
    passed = await audit_rows(app, action="auth.mfa_passed")
    assert passed[0].details == {"method": "recovery_code"}
    [used] = await audit_rows(app, action="mfa.recovery_code_used")
    assert (used.target_id, used.details) == (str(ada.principal.user_id), {"remaining": 9})
    factor = await stored_factor(app, ada.principal.user_id)
    assert factor is not None
    assert len(factor.recovery_code_hashes) == 9


async def test_a_recovery_code_may_be_typed_loosely(app: App) -> None:
    ada = await enrolled(app, "ada")
    typed = ada.recovery_codes[0].replace("-", " ").upper()

    await verify(app, await mfa_challenge(app, "ada"), f" {typed} ")


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c"])
async def test_a_forged_mfa_token_is_an_invalid_token(app: App, token: str) -> None:
    ada = await enrolled(app, "ada")

    with pytest.raises(InvalidTokenError):
        await verify(app, token, totp_code(app, ada.secret))


async def test_an_access_token_is_no_mfa_token(app: App) -> None:
    await enrolled(app, "ada")
    await mfa_challenge(app, "ada")
    bob = await app.log_in_as((await app.sign_up("bob")).username.value)

    with pytest.raises(InvalidTokenError):
        await verify(app, bob.access_token, "123456")


async def test_an_mfa_token_is_no_access_token(app: App) -> None:
    await enrolled(app, "ada")
    token = await mfa_challenge(app, "ada")

    with pytest.raises(InvalidTokenError):
        await app.authenticate.execute(AuthenticateCommand(access_token=token))


async def test_an_expired_mfa_token_is_an_invalid_token(app: App) -> None:
    ada = await enrolled(app, "ada")
    token = await mfa_challenge(app, "ada")

    app.clock.advance(seconds=301)

    with pytest.raises(InvalidTokenError):
        await verify(app, token, totp_code(app, ada.secret))
    assert await failed_logins(app, ada.principal) == 0  # refused before any code is judged


async def test_a_challenge_outstanding_when_mfa_is_turned_off_must_log_in_again(
    app: App,
) -> None:
    ada = await enrolled(app, "ada")
    token = await mfa_challenge(app, "ada")
    await app.disable_totp.execute(
        ada.principal,
        DisableTotpCommand(current_password=PASSWORD, code=totp_code(app, ada.secret)),
    )
    app.clock.advance(seconds=30)

    with pytest.raises(InvalidTokenError):
        await verify(app, token, totp_code(app, ada.secret))
    assert await failed_logins(app, ada.principal) == 0  # handed back


async def test_a_deactivated_account_cannot_complete_its_challenge(app: App) -> None:
    admin = await app.admin()
    ada = await enrolled(app, "ada")
    token = await mfa_challenge(app, "ada")
    await app.update_user.execute(admin, ada.principal.user_id, UpdateUserCommand(is_active=False))

    with pytest.raises(InvalidCredentialsError):
        await verify(app, token, totp_code(app, ada.secret))


# --- guessing --------------------------------------------------------------------------------


async def test_wrong_codes_lock_the_account_like_wrong_passwords(
    make_app: Callable[..., App],
) -> None:
    app = make_app(login_policy=locking_after(3))
    ada = await enrolled(app, "ada")
    token = await mfa_challenge(app, "ada")

    for _ in range(3):
        with pytest.raises(InvalidCredentialsError):
            await verify(app, token, "000000")

    assert "AccountLocked" in app.event_names()
    # Locked: neither the right code nor the right password helps until it ends.
    with pytest.raises(InvalidCredentialsError):
        await verify(app, token, totp_code(app, ada.secret))
    with pytest.raises(InvalidCredentialsError) as refused:
        await app.log_in_as("ada")
    assert not isinstance(refused.value, MfaRequiredError)
    rows = await audit_rows(app, action="auth.mfa")
    assert rows[0].details == {"reason": "locked"}


async def test_re_entering_the_password_buys_no_fresh_guesses_at_the_code(
    make_app: Callable[..., App],
) -> None:
    app = make_app(login_policy=locking_after(3))
    ada = await enrolled(app, "ada")

    for _ in range(2):
        with pytest.raises(InvalidCredentialsError):
            await verify(app, await mfa_challenge(app, "ada"), "000000")
    assert await failed_logins(app, ada.principal) == 2
    with pytest.raises(InvalidCredentialsError):
        await verify(app, await mfa_challenge(app, "ada"), "000000")

    assert "AccountLocked" in app.event_names()


async def test_a_completed_login_clears_the_count(make_app: Callable[..., App]) -> None:
    app = make_app(login_policy=locking_after(3))
    ada = await enrolled(app, "ada")
    token = await mfa_challenge(app, "ada")
    with pytest.raises(InvalidCredentialsError):
        await verify(app, token, "000000")

    await verify(app, token, totp_code(app, ada.secret))

    assert await failed_logins(app, ada.principal) == 0


async def test_codes_share_the_accounts_login_rate_limit(make_app: Callable[..., App]) -> None:
    limits = ThrottlePolicy(login_per_account=Rate(3, 60), login_per_client=Rate(100, 60))
    app = make_app(throttle_policy=limits)
    await enrolled(app, "ada")  # one login: the account's first this minute
    token = await mfa_challenge(app, "ada")  # the second

    with pytest.raises(InvalidCredentialsError):
        await verify(app, token, "000000")
    with pytest.raises(RateLimitedError):
        await verify(app, token, "000000")


async def test_login_without_an_mfa_token_issuer_fails_closed(app: App) -> None:
    """A composition that forgot `mfa_tokens` must not let MFA accounts in on a password:
    such a `LogIn` cannot even be built (every collaborator is required)."""
    await enrolled(app, "ada")

    with pytest.raises(TypeError):
        LogIn(  # type: ignore[call-arg]
            app.uow_factory,
            app.clock,
            hasher=app.hasher,
            opener=app.opener,
            attempts=app.attempts,
            throttle=app.throttle,
            policy=LoginPolicy(),
        )


# --- turning it off --------------------------------------------------------------------------


async def test_disabling_needs_the_password_and_a_code_and_then_login_is_one_step(
    app: App,
) -> None:
    ada = await enrolled(app, "ada")

    await app.disable_totp.execute(
        ada.principal,
        DisableTotpCommand(current_password=PASSWORD, code=totp_code(app, ada.secret)),
    )

    assert await stored_factor(app, ada.principal.user_id) is None
    await app.log_in_as("ada")  # tokens again
    [row] = await audit_rows(app, action="mfa.disabled")
    assert (row.actor_id, row.outcome) == (ada.principal.user_id, Outcome.SUCCESS)
    assert "MfaDisabled" in app.event_names()


async def test_a_recovery_code_may_turn_mfa_off(app: App) -> None:
    ada = await enrolled(app, "ada")

    await app.disable_totp.execute(
        ada.principal,
        DisableTotpCommand(current_password=PASSWORD, code=ada.recovery_codes[0]),
    )

    assert await stored_factor(app, ada.principal.user_id) is None


async def test_a_wrong_password_does_not_disable_and_counts(app: App) -> None:
    ada = await enrolled(app, "ada")

    with pytest.raises(InvalidCurrentPasswordError):
        await app.disable_totp.execute(
            ada.principal,
            DisableTotpCommand(current_password=WRONG, code=totp_code(app, ada.secret)),
        )

    factor = await stored_factor(app, ada.principal.user_id)
    assert factor is not None
    assert factor.is_enabled
    assert await failed_logins(app, ada.principal) == 1
    [row] = await audit_rows(app, action="mfa.disable")
    assert (row.outcome, row.details) == (Outcome.FAILURE, {"reason": "wrong_password"})
    # The code was never looked at, so it is still good.
    await app.disable_totp.execute(
        ada.principal,
        DisableTotpCommand(current_password=PASSWORD, code=totp_code(app, ada.secret)),
    )


@pytest.mark.parametrize("stale", [False, True])
async def test_a_wrong_or_used_code_does_not_disable_and_counts(app: App, stale: bool) -> None:
    ada = await enrolled(app, "ada")
    code = totp_code(app, ada.secret) if stale else "000000"
    if stale:
        await verify(app, await mfa_challenge(app, "ada"), code)

    with pytest.raises(InvalidMfaCodeError):
        await app.disable_totp.execute(
            ada.principal, DisableTotpCommand(current_password=PASSWORD, code=code)
        )

    factor = await stored_factor(app, ada.principal.user_id)
    assert factor is not None
    assert factor.is_enabled
    assert await failed_logins(app, ada.principal) == 1
    [row] = await audit_rows(app, action="mfa.disable")
    assert row.details == {"reason": "invalid_code"}


async def test_disabling_what_is_not_on_is_a_conflict(app: App) -> None:
    ada = await app.signed_in("ada")
    with pytest.raises(MfaNotEnabledError):
        await app.disable_totp.execute(
            ada, DisableTotpCommand(current_password=PASSWORD, code="123456")
        )
    await app.setup_totp.execute(ada, SETUP)  # pending is not on either
    with pytest.raises(MfaNotEnabledError):
        await app.disable_totp.execute(
            ada, DisableTotpCommand(current_password=PASSWORD, code="123456")
        )
    assert await failed_logins(app, ada) == 0


async def test_wrong_passwords_at_disable_lock_the_account(make_app: Callable[..., App]) -> None:
    app = make_app(login_policy=locking_after(2))
    ada = await enrolled(app, "ada")

    for _ in range(2):
        with pytest.raises(InvalidCurrentPasswordError):
            await app.disable_totp.execute(
                ada.principal,
                DisableTotpCommand(current_password=WRONG, code=totp_code(app, ada.secret)),
            )

    assert "AccountLocked" in app.event_names()
    with pytest.raises(InvalidCurrentPasswordError):  # locked: the right one is not checked
        await app.disable_totp.execute(
            ada.principal,
            DisableTotpCommand(current_password=PASSWORD, code=totp_code(app, ada.secret)),
        )
