"""Float/Decimal conversion at the DynamoDB boundary."""

from decimal import Decimal

from chalicelib.core.dynamo import from_item, to_item


def test_floats_become_decimals_and_none_values_are_dropped() -> None:
    item = to_item({"risk": 0.25, "n": 3, "ok": True, "gone": None, "list": [0.5, None]})
    assert item == {"risk": Decimal("0.25"), "n": 3, "ok": True, "list": [Decimal("0.5"), None]}


def test_decimals_come_back_as_int_or_float() -> None:
    value = from_item({"a": Decimal("3"), "b": Decimal("0.125"), "c": [Decimal("1.0")]})
    assert value == {"a": 3, "b": 0.125, "c": [1]}
    assert isinstance(value["a"], int)
    assert isinstance(value["b"], float)
