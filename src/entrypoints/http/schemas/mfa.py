"""Shapes of the two-factor endpoints (TOTP and recovery codes)."""

from typing import Annotated

from pydantic import BaseModel, Field

from application.identity.use_cases.confirm_totp import RecoveryCodes
from application.identity.use_cases.setup_totp import TotpSetup
from entrypoints.http.schemas.auth import TokenField
from entrypoints.http.schemas.common import ErrorBody
from entrypoints.http.schemas.users import Input, PasswordField

# Wide enough for a recovery code typed with spaces; the use case judges the content.
CodeField = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description="A 6-digit code from the authenticator app, or a recovery code",
        examples=["123456"],
    ),
]


class TotpSetupOut(BaseModel):
    secret: str
    otpauth_uri: str
    qr_svg: str = Field(description="The `otpauth_uri` as a QR code, a standalone SVG")

    @classmethod
    def of(cls, setup: TotpSetup) -> "TotpSetupOut":
        return cls(secret=setup.secret, otpauth_uri=setup.otpauth_uri, qr_svg=setup.qr_svg)


class TotpSetupIn(Input):
    current_password: PasswordField


class TotpConfirmIn(Input):
    code: CodeField


class RecoveryCodesOut(BaseModel):
    recovery_codes: list[str] = Field(description="Ten single-use codes, shown only now")

    @classmethod
    def of(cls, codes: RecoveryCodes) -> "RecoveryCodesOut":
        return cls(recovery_codes=list(codes.codes))


class TotpDisableIn(Input):
    current_password: PasswordField
    code: CodeField


class MfaVerifyIn(Input):
    mfa_token: str = TokenField
    code: CodeField


class MfaChallengeBody(ErrorBody):
    """401 `mfa_required` from `/login` and `/token`: the envelope plus `mfa_token`."""

    mfa_token: str
