"""The local moto server keeps DynamoDB's write isolation (scripts/moto_server.py).

Run by `make test` (`python -m unittest discover -s scripts -p "test_*.py"`). `MOTO_LAUNCHER=plain`
runs the same race against moto's own `moto_server`, to see what the launcher fixes.
"""

import concurrent.futures
import os
import socket
import subprocess
import sys
import time
import unittest
import urllib.request
from pathlib import Path

import boto3
import botocore.config
from botocore.exceptions import ClientError

SCRIPTS = Path(__file__).resolve().parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TransactionsUnderConcurrency(unittest.TestCase):
    def setUp(self):
        port = free_port()
        if os.environ.get("MOTO_LAUNCHER") == "plain":
            args = [str(Path(sys.executable).parent / "moto_server")]
        else:
            args = [sys.executable, str(SCRIPTS / "moto_server.py")]
        self.server = subprocess.Popen([*args, "-H", "127.0.0.1", "-p", str(port)],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(self.server.wait, 10)
        self.addCleanup(self.server.terminate)
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/moto-api/", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        self.db = boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1",
                               aws_access_key_id="local", aws_secret_access_key="local",
                               config=botocore.config.Config(max_pool_connections=20))
        self.db.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                             AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                             KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
        # A table of some size, as in the tests: moto copies the whole table at the start of each
        # transaction, which widens the window in which its threads interleave.
        for start in range(0, 6000, 25):
            self.db.batch_write_item(RequestItems={"t": [
                {"PutRequest": {"Item": {"pk": {"S": f"filler-{i}"}, "pad": {"S": "x" * 200}}}}
                for i in range(start, start + 25)]})
        self.db.put_item(TableName="t", Item={"pk": {"S": "link"}, "version": {"N": "1"},
                                              "status": {"S": "open"}})

    def book(self, n):
        """What a booking writes: the link, if still at the version read, and a lease that must not
        exist yet, in one transaction."""
        time.sleep(0.02 * (n % 10))  # arrivals spread over 0.2 s, as real clicks are
        try:
            self.db.transact_write_items(TransactItems=[
                {"Put": {"TableName": "t", "Item": {"pk": {"S": "link"}, "version": {"N": "2"},
                                                    "status": {"S": f"booked by {n}"}},
                         "ConditionExpression": "version = :v",
                         "ExpressionAttributeValues": {":v": {"N": "1"}}}},
                {"Put": {"TableName": "t", "Item": {"pk": {"S": "lease"}, "by": {"N": str(n)}},
                         "ConditionExpression": "attribute_not_exists(pk)"}},
            ])
            return n
        except ClientError as e:
            self.assertEqual(e.response["Error"]["Code"], "TransactionCanceledException")
            return None

    def test_twenty_concurrent_conditional_transactions_on_one_item_let_exactly_one_commit(self):
        with concurrent.futures.ThreadPoolExecutor(20) as pool:
            won = [n for n in pool.map(self.book, range(20)) if n is not None]
        self.assertEqual(len(won), 1, f"committed: {won}")
        link = self.db.get_item(TableName="t", Key={"pk": {"S": "link"}})["Item"]
        lease = self.db.get_item(TableName="t", Key={"pk": {"S": "lease"}})["Item"]
        self.assertEqual(link["status"]["S"], f"booked by {won[0]}")
        self.assertEqual(lease["by"]["N"], str(won[0]))


if __name__ == "__main__":
    unittest.main()
