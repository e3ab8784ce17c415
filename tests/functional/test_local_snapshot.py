"""Local mode saves its tables and restores them after a restart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chalicelib.local.snapshot import TableSnapshot


def _create(ddb: Any, name: str, hash_key: str = "pk") -> None:
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": hash_key, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": hash_key, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture
def ddb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield boto3.client("dynamodb", region_name="us-east-1")


def test_items_survive_save_and_restore_into_fresh_tables(ddb: Any, tmp_path: Path) -> None:
    _create(ddb, "t1")
    for i in range(60):  # more than one BatchWriteItem
        ddb.put_item(
            TableName="t1", Item={"pk": {"S": f"k{i}"}, "n": {"N": str(i)}, "s": {"SS": ["a", "b"]}}
        )
    snapshot = TableSnapshot(ddb, tmp_path)
    assert snapshot.save(["t1"]) == 60

    ddb.delete_table(TableName="t1")
    _create(ddb, "t1")
    assert snapshot.restore(["t1", "never-saved"]) == 60
    item = ddb.get_item(TableName="t1", Key={"pk": {"S": "k42"}})["Item"]
    assert item["n"] == {"N": "42"}
    assert set(item["s"]["SS"]) == {"a", "b"}


def test_a_snapshot_that_no_longer_fits_is_set_aside_not_fatal(ddb: Any, tmp_path: Path) -> None:
    _create(ddb, "t2")
    ddb.put_item(TableName="t2", Item={"pk": {"S": "x"}})
    snapshot = TableSnapshot(ddb, tmp_path)
    snapshot.save(["t2"])
    # The schema changed: the table's key is now "id", so the saved items cannot be written.
    ddb.delete_table(TableName="t2")
    _create(ddb, "t2", hash_key="id")
    assert snapshot.restore(["t2"]) == 0
    assert not (tmp_path / "t2.json").exists()
    assert len(list(tmp_path.glob("t2.json.unrestorable-*"))) == 1
