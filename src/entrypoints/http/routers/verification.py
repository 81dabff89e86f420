"""`/api/v1/auth/verify-email*` and `/api/v1/auth/password-reset/*`."""

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, status

from application.identity.use_cases.verification import (
    RequestEmailVerification,
    RequestPasswordReset,
    ResetPassword,
    ResetPasswordCommand,
    VerifyEmail,
    VerifyEmailCommand,
)
from entrypoints.http.dependencies import CurrentPrincipal, require_json, use_case
from entrypoints.http.errors import error_responses
from entrypoints.http.schemas.auth import (
    AcceptedOut,
    PasswordResetConfirmIn,
    PasswordResetRequestIn,
    VerifyEmailIn,
)
from entrypoints.http.schemas.users import UserOut

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
json_body = [Depends(require_json)]


@router.post(
    "/verify-email/request",
    operation_id="requestEmailVerification",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(401, 403, 503),
    description=RequestEmailVerification.__doc__,
)
async def request_verification(
    principal: CurrentPrincipal,
    request_verification: Annotated[
        RequestEmailVerification, use_case(lambda c: c.request_email_verification)
    ],
) -> AcceptedOut:
    await request_verification.execute(principal)
    return AcceptedOut()


@router.post(
    "/verify-email",
    dependencies=json_body,
    responses=error_responses(400, 415, 422, 503),
    description=VerifyEmail.__doc__,
)
async def verify_email(
    body: VerifyEmailIn, verify: Annotated[VerifyEmail, use_case(lambda c: c.verify_email)]
) -> UserOut:
    return UserOut.of(await verify.execute(VerifyEmailCommand(token=body.token)))


@router.post(
    "/password-reset/request",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=json_body,
    responses=error_responses(415, 422, 429, 503),
    description=RequestPasswordReset.__doc__,
)
async def request_password_reset(
    body: PasswordResetRequestIn,
    background: BackgroundTasks,
    request_reset: Annotated[RequestPasswordReset, use_case(lambda c: c.request_password_reset)],
) -> AcceptedOut:
    await request_reset.admit(body.email)
    # The lookup and the mail happen after the answer: the same 202, in the same time,
    # whether or not the address has an account (no enumeration).
    background.add_task(request_reset.execute, body.email)
    return AcceptedOut()


@router.post(
    "/password-reset/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=json_body,
    responses=error_responses(400, 415, 422, 503),
    description=ResetPassword.__doc__,
)
async def confirm_password_reset(
    body: PasswordResetConfirmIn,
    reset: Annotated[ResetPassword, use_case(lambda c: c.reset_password)],
) -> None:
    await reset.execute(ResetPasswordCommand(token=body.token, new_password=body.new_password))
