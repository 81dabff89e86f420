from uuid import UUID

from application.ports.id_generator import IdGenerator

_VERSION_7 = 0x7 << 76
_VARIANT_RFC = 0b10 << 62


class SequentialIdGenerator(IdGenerator):
    """Predictable UUIDv7-shaped ids for tests: version 7, RFC 9562 variant, increasing.

    The 48-bit timestamp field holds `start_ms` and the 74 random bits hold a counter, so
    ids sort in creation order like real UUIDv7s and each run yields the same ones.
    """

    def __init__(self, start_ms: int = 1_735_689_600_000) -> None:  # 2025-01-01T00:00Z
        if not 0 <= start_ms < 1 << 48:
            raise ValueError("start_ms must fit in 48 bits")
        self._start_ms = start_ms
        self._counter = 0

    def new_id(self) -> UUID:
        self._counter += 1
        rand_a = (self._counter >> 62) & 0xFFF  # 12 bits next to the version
        rand_b = self._counter & ((1 << 62) - 1)  # 62 bits after the variant
        value = (self._start_ms << 80) | _VERSION_7 | (rand_a << 64) | _VARIANT_RFC | rand_b
        return UUID(int=value)
