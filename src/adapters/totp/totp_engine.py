import hmac
import io
from datetime import datetime

import pyotp
import segno

from application.ports.totp import TotpEngine

_DIGITS = 6
_INTERVAL = 30
_WINDOW = 1  # steps accepted either side of now (RFC 6238 §5.2)


class PyotpTotpEngine(TotpEngine):
    """TOTP with pyotp (not hand-rolled) and QR codes with segno (pure Python, no image
    library). The step is computed here from the given `now`, not from pyotp's wall
    clock, so tests are exact."""

    def new_secret(self) -> str:
        return pyotp.random_base32(length=32)  # 32 base32 characters: 160 bits

    def provisioning_uri(self, secret: str, account_name: str, issuer: str) -> str:
        totp = pyotp.TOTP(secret, digits=_DIGITS, interval=_INTERVAL)
        return totp.provisioning_uri(name=account_name, issuer_name=issuer)

    def verify(self, secret: str, code: str, now: datetime) -> int | None:
        code = code.strip()
        if len(code) != _DIGITS or not code.isascii() or not code.isdigit():
            return None
        totp = pyotp.TOTP(secret, digits=_DIGITS, interval=_INTERVAL)
        current = int(now.timestamp()) // _INTERVAL
        matched = None
        # Every candidate is compared, in constant time, so timing tells nothing about
        # which step (if any) matched.
        for step in range(current - _WINDOW, current + _WINDOW + 1):
            if hmac.compare_digest(totp.generate_otp(step), code) and matched is None:
                matched = step
        return matched

    def qr_svg(self, data: str) -> str:
        buffer = io.BytesIO()
        qr = segno.make(data, error="m", micro=False)
        qr.save(buffer, kind="svg", scale=4, border=4, xmldecl=False, svgns=True, nl=False)
        return buffer.getvalue().decode("utf-8")
