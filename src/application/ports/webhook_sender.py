from abc import abstractmethod
from collections.abc import Mapping
from typing import Protocol


class WebhookSender(Protocol):
    """POSTs webhook deliveries, only to targets that are safe to call.

    A target is refused (`UnsafeWebhookTargetError`) when its scheme is not allowed
    (https only, where required) or when its host resolves to any loopback, private,
    link-local, multicast, reserved or cloud-metadata address, unless private targets
    are allowed by configuration. `send` checks again right before each attempt (a
    name may resolve elsewhere by then), follows no redirect, and gives up after a
    short timeout.
    """

    @abstractmethod
    async def check_target(self, url: str) -> None: ...

    @abstractmethod
    async def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> int | None:
        """The answer's status code; None when there was none (refused target,
        timeout, connection error). Never raises for the target's behaviour."""
