"""The rules for JSON and text from outside (chalicelib.core.inputs): every hostile shape is a
ValidationError at its path, and whatever is accepted can be stored in DynamoDB and sent back."""

from __future__ import annotations

import json
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.core.dynamo import from_item, to_item
from chalicelib.core.errors import ValidationError
from chalicelib.core.inputs import (
    MAX_DEPTH,
    check_text,
    clean_text,
    parse_crawled_json,
    parse_json,
    text_problem,
)


def problems(raw: str | bytes) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as caught:
        parse_json(raw)
    return [(p.path, p.message) for p in caught.value.problems]


@pytest.mark.parametrize(
    ("raw", "path", "words"),
    [
        ('{"n": NaN}', "/n", "NaN is not a JSON number"),
        ('{"n": [1, Infinity]}', "/n/1", "Infinity is not a JSON number"),
        ('{"n": -Infinity}', "/n", "-Infinity is not a JSON number"),
        ('{"n": ' + "9" * 5000 + "}", "/n", "38 significant digits"),
        ('{"n": 1e400}', "/n", "out of range"),
        ('{"n": 1e-131}', "/n", "out of range"),
        ('{"n": 1' + "0" * 38 + "}", "/n", "out of range"),
        ('{"n": 1234567890123456789012345678901234567891}', "/n", "out of range"),
        ('{"t": "\\ud800"}', "/t", "lone surrogate (\\ud800)"),
        ('{"t": "ok \\udfff"}', "/t", "at character 4"),
        ('{"t": "a\\u0000b"}', "/t", "control character \\u0000"),
        ('{"t": "\\u001b[31m"}', "/t", "control character \\u001b"),
        ('{"t": "\\uffff"}', "/t", "is not a character"),
        ('{"t": "\uffff raw"}', "/t", "is not a character"),
        ('{"t": "a\\bb"}', "/t", "control character \\u0008"),
        ('{"t": ["ok", "\\f"]}', "/t/1", "control character \\u000c"),
        ('{"a": 1, "a": 2}', "/a", "duplicate key"),
        ('{"\\ud800/x": 1}', "/\\ud800~1x", "the key: a lone surrogate"),
        ('{"a": ' + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "}", "/a" + "/0" * (MAX_DEPTH - 1), "32"),
    ],
)
def test_each_hostile_value_is_refused_at_its_path(raw: str, path: str, words: str) -> None:
    found = problems(raw)
    assert any(p == path and words in message for p, message in found), found


def test_nesting_beyond_the_recursion_limit_is_a_400_not_a_recursion_error() -> None:
    assert problems("[" * 100_000 + "]" * 100_000) == [("", f"at most {MAX_DEPTH} levels")]


@pytest.mark.parametrize(
    ("raw", "words"),
    [(b"\xff\xfe{}", "not UTF-8"), (b'{"a": "\xed\xa0\x80"}', "not UTF-8"), (b"{", "Expecting")],
)
def test_bytes_that_are_not_utf8_json_are_refused(raw: bytes, words: str) -> None:
    assert words in problems(raw)[0][1]


def test_every_problem_is_listed_in_document_order() -> None:
    found = problems('{"a": NaN, "b": {"c": "\\u0000"}, "d": [1e999]}')
    assert [p for p, _ in found] == ["/a", "/b/c", "/d/0"]


@pytest.mark.parametrize(
    "raw",
    [
        '{"n": 12345678901234567890123456789012345678}',  # 38 digits
        '{"n": 1e-130, "m": -9.9999e37, "z": 0, "y": -0.0, "x": 1' + "0" * 37 + "}",
        '{"t": "emoji 😀 \\ud83d\\ude00 and RTL \\u202e\\u200f, tab\\tnew\\nline\\r"}',
        '\ufeff{"bom": true}',
        '{"deep": ' + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "}",
    ],
)
def test_edge_values_that_fit_are_accepted(raw: str) -> None:
    assert isinstance(parse_json(raw), dict)


def test_numbers_keep_their_python_types() -> None:
    assert parse_json('{"i": 7, "f": 0.5, "b": true}') == {"i": 7, "f": 0.5, "b": True}
    assert type(parse_json('{"i": 7}')["i"]) is int


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**200), max_value=10**200)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([1e37, 9.999e37, 1e38, 1e-130, 1e-131, 1e50, -0.0])
    | st.text(st.characters(codec=None), max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(st.characters(codec=None), max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(derandomize=True, max_examples=300, deadline=None)
@given(json_values)
def test_whatever_is_accepted_can_be_stored_in_dynamodb_and_sent_back(value: Any) -> None:
    # GIVEN any JSON-ish value, hostile or not, as Python's json module writes it
    raw = json.dumps({"v": value}, ensure_ascii=True)
    # WHEN it is parsed as a request body
    try:
        parsed = parse_json(raw)
    except ValidationError as err:
        refused = err.problems
    else:
        refused = []
    if refused:
        assert all(p.path.startswith("/v") for p in refused)
        return
    # THEN DynamoDB's serializer takes it, again after a round trip (an integral float comes
    # back as an int), and the answer encodes as UTF-8 JSON
    stored = TypeSerializer().serialize(to_item(parsed))
    back = from_item(TypeDeserializer().deserialize(stored))
    TypeSerializer().serialize(to_item(back))
    json.dumps(parsed, ensure_ascii=False, allow_nan=False).encode("utf-8")


def test_crawled_json_turns_unusable_numbers_into_null() -> None:
    data = parse_crawled_json(
        '{"hot": NaN, "views": 1e400, "n": [Infinity, 5, ' + "9" * 5000 + "]}"
    )
    assert data == {"hot": None, "views": None, "n": [None, 5, None]}
    with pytest.raises(ValueError, match="nested too deeply"):
        parse_crawled_json("[" * 100_000)


def test_crawled_text_is_repaired_not_refused() -> None:
    assert clean_text("标题\x00\x07\ud83d尾\ufffe") == "标题\ufffd尾"
    assert clean_text("正常 ‮ RTL\t") == "正常 ‮ RTL\t"


def test_check_text_bounds_length_and_characters() -> None:
    assert check_text("c-abc", "/id", max_chars=10) == "c-abc"
    for bad in ("x" * 11, "a\x00", "\ud800"):
        with pytest.raises(ValidationError):
            check_text(bad, "/id", max_chars=10)
    assert text_problem("ok") is None
