"""Float/Decimal conversion at the DynamoDB boundary."""

from decimal import Decimal

from chalicelib.core.dynamo import from_item, query_all, to_item


def test_floats_become_decimals_and_none_values_are_dropped() -> None:
    item = to_item({"risk": 0.25, "n": 3, "ok": True, "gone": None, "list": [0.5, None]})
    assert item == {"risk": Decimal("0.25"), "n": 3, "ok": True, "list": [Decimal("0.5"), None]}


def test_decimals_come_back_as_int_or_float() -> None:
    value = from_item({"a": Decimal("3"), "b": Decimal("0.125"), "c": [Decimal("1.0")]})
    assert value == {"a": 3, "b": 0.125, "c": [1]}
    assert isinstance(value["a"], int)
    assert isinstance(value["b"], float)


class PagedTable:
    """A table whose Query answers two items a page, as DynamoDB does past 1 MB."""

    def __init__(self, n: int) -> None:
        self.items = [{"pk": "p", "sk": i, "v": Decimal("0.5")} for i in range(n)]
        self.calls = 0

    def query(self, **request: object) -> dict[str, object]:
        self.calls += 1
        start = int(request.get("ExclusiveStartKey", {}).get("sk", -1)) + 1  # type: ignore[attr-defined]
        page = self.items[start : start + 2]
        more = start + 2 < len(self.items)
        return {"Items": page, **({"LastEvaluatedKey": page[-1]} if more else {})}


def test_query_all_reads_every_page_and_stops_at_the_limit() -> None:
    # GIVEN five items served two a page WHEN all are asked for THEN three pages, plain values
    table = PagedTable(5)
    rows = query_all(table, "test table", KeyConditionExpression="pk = :p")
    assert [r["sk"] for r in rows] == [0, 1, 2, 3, 4]
    assert rows[0]["v"] == 0.5
    assert table.calls == 3
    # WHEN three are asked for THEN two pages are read and three items returned
    limited = PagedTable(5)
    assert [r["sk"] for r in query_all(limited, "test table", limit=3)] == [0, 1, 2]
    assert limited.calls == 2
