from collections.abc import Callable

from application.ports.transaction import Transaction
from application.ports.unit_of_work import UnitOfWork

# A fresh unit of work per transaction: a use case may need more than one (a read, then
# the password check off the loop, then the write), and never holds one across a hash.
UnitOfWorkFactory = Callable[[], UnitOfWork]

# Plain transactions, for work that records no events: the reads of every authenticated
# request, and the relay's own bookkeeping.
TransactionFactory = Callable[[], Transaction]
