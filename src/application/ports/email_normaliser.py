from abc import abstractmethod
from typing import Protocol

from domain.identity.value_objects import Email


class EmailNormaliser(Protocol):
    """Turns an address as a person typed it into the one form HexaHub stores and
    compares, so that every spelling of one mailbox is one account: Unicode NFC, the
    domain in one IDNA form (`bücher.example` and `xn--bcher-kva.example` are one), the
    DNS root's trailing dot dropped, lower case. Quoted local parts, IP-address domains,
    display names and reserved domains (`.invalid`, `localhost`) are refused.

    Raises `InvalidEmailError` (its message says what is wrong) for an address that
    cannot be normalised. Pure: no I/O, no DNS; normalising a normalised address gives it
    back unchanged.
    """

    @abstractmethod
    def normalise(self, raw: str) -> Email: ...
