"""Told of every rate-limit refusal, by the name of the limit that refused it."""

from collections.abc import Callable
from typing import Literal, get_args

LimitName = Literal[
    "login_per_account",
    "login_per_client",
    "register_per_client",
    "reset_per_client",
    "reset_per_email",
    "reset_per_email_client",
    "requests_per_client",
]
"""The `ThrottlePolicy` fields that are budgets."""
LIMIT_NAMES: tuple[LimitName, ...] = get_args(LimitName)

RejectionListener = Callable[[LimitName], None]
"""Told each refusal with the name of the limit that refused it (a `ThrottlePolicy`
field such as `login_per_account`), never the key, address or account, so a metric fed
by it keeps a fixed set of series. Must not raise."""
