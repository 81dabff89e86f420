"""`/api/v1/auth/mfa`: TOTP second factor, recovery codes, and the login's second step."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from application.identity.use_cases.confirm_totp import ConfirmTotp, ConfirmTotpCommand
from application.identity.use_cases.disable_totp import DisableTotp, DisableTotpCommand
from application.identity.use_cases.setup_totp import SetupTotp, SetupTotpCommand
from application.identity.use_cases.verify_mfa import VerifyMfa, VerifyMfaCommand
from entrypoints.http.dependencies import (
    CurrentPrincipal,
    client_ip,
    require_json,
    use_case,
    user_agent,
)
from entrypoints.http.errors import error_responses
from entrypoints.http.schemas.auth import TokenPairOut
from entrypoints.http.schemas.mfa import (
    MfaVerifyIn,
    RecoveryCodesOut,
    TotpConfirmIn,
    TotpDisableIn,
    TotpSetupIn,
    TotpSetupOut,
)

router = APIRouter(prefix="/api/v1/auth/mfa", tags=["mfa"])
json_body = [Depends(require_json)]
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@router.post(
    "/totp/setup",
    dependencies=json_body,
    responses=error_responses(400, 401, 403, 409, 415, 422, 503),
    description=SetupTotp.__doc__,
)
async def setup_totp(
    body: TotpSetupIn,
    principal: CurrentPrincipal,
    response: Response,
    setup: Annotated[SetupTotp, use_case(lambda c: c.setup_totp)],
) -> TotpSetupOut:
    started = await setup.execute(
        principal, SetupTotpCommand(current_password=body.current_password)
    )
    response.headers.update(NO_STORE)
    return TotpSetupOut.of(started)


@router.post(
    "/totp/confirm",
    dependencies=json_body,
    responses=error_responses(400, 401, 403, 409, 415, 422, 429, 503),
    description=ConfirmTotp.__doc__,
)
async def confirm_totp(
    body: TotpConfirmIn,
    principal: CurrentPrincipal,
    response: Response,
    confirm: Annotated[ConfirmTotp, use_case(lambda c: c.confirm_totp)],
) -> RecoveryCodesOut:
    codes = await confirm.execute(principal, ConfirmTotpCommand(code=body.code))
    response.headers.update(NO_STORE)
    return RecoveryCodesOut.of(codes)


@router.post(
    "/totp/disable",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=json_body,
    responses=error_responses(400, 401, 403, 409, 415, 422, 429, 503),
    description=DisableTotp.__doc__,
)
async def disable_totp(
    body: TotpDisableIn,
    principal: CurrentPrincipal,
    disable: Annotated[DisableTotp, use_case(lambda c: c.disable_totp)],
) -> None:
    await disable.execute(
        principal, DisableTotpCommand(current_password=body.current_password, code=body.code)
    )


@router.post(
    "/verify",
    operation_id="verifyMfa",
    dependencies=json_body,
    responses=error_responses(401, 415, 422, 429, 503),
    description=VerifyMfa.__doc__,
)
async def verify(
    body: MfaVerifyIn,
    request: Request,
    response: Response,
    verify_mfa: Annotated[VerifyMfa, use_case(lambda c: c.verify_mfa)],
) -> TokenPairOut:
    pair = await verify_mfa.execute(
        VerifyMfaCommand(
            mfa_token=body.mfa_token,
            code=body.code,
            ip=client_ip(request),
            user_agent=user_agent(request),
        )
    )
    response.headers.update(NO_STORE)
    return TokenPairOut.of(pair)
