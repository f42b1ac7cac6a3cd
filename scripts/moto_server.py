"""The moto server of `make dev`, `make test` and the benches, with DynamoDB's write isolation.

DynamoDB serialises every write of an item against the others: a conditional PutItem, UpdateItem
or DeleteItem, and TransactWriteItems as a whole, see the item as the last committed write left it
("Isolation levels for DynamoDB transactions": serializable between transactions and standard
writes, https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-isolation).
moto's server answers requests on several threads and does not: `transact_write_items` checks its
conditions and applies its items one by one without a lock, and when one fails it puts back a
copy of the whole table taken when it started, undoing the writes other requests made meanwhile.
Twenty concurrent bookings of one scheduling link then saw two of them succeed, which DynamoDB
cannot do. So this launcher runs moto's own server with one re-entrant lock around the backend's
item writes and item reads; everything else is moto as released.
"""

import sys
import threading

from moto.dynamodb.models import DynamoDBBackend
from moto.server import main

_ITEMS = threading.RLock()


def _serialised(method):
    def locked(*args, **kwargs):
        with _ITEMS:
            return method(*args, **kwargs)

    locked.__name__ = method.__name__
    locked.__doc__ = method.__doc__
    return locked


# Re-entrant: a transaction writes through put_item / update_item / delete_item itself.
for name in ("transact_write_items", "put_item", "update_item", "delete_item", "get_item"):
    setattr(DynamoDBBackend, name, _serialised(getattr(DynamoDBBackend, name)))

if __name__ == "__main__":
    sys.exit(main())
