from uuid import UUID

from uuid_utils.compat import uuid7

from application.ports.id_generator import IdGenerator


class Uuid7IdGenerator(IdGenerator):
    """RFC 9562 UUIDv7: millisecond timestamp first, so ids sort by creation time.

    `uuid_utils.compat` returns stdlib `uuid.UUID`, the type the domain uses; it keeps
    ids monotonic within the same millisecond in one process.
    """

    def new_id(self) -> UUID:
        return uuid7()
