"""The HTTP adapters every view uses: JSON bodies in, JSON errors out, never a raw 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import pytest
from chalice import Chalice
from chalice.test import Client

from chalicelib.core.errors import ConflictError, NotFoundError
from chalicelib.core.http import (
    MAX_BODY_BYTES,
    api,
    content_disposition,
    file_response,
    json_body,
    json_response,
    query_params,
    requested_format,
)

sample = Chalice(app_name="httptest")


@sample.route("/echo", methods=["POST"])
@api
def echo() -> dict[str, Any]:
    return {"got": json_body(sample.current_request)}


@sample.route("/items/{item}", methods=["GET"])
@api
def item(item: str) -> dict[str, Any]:
    return {"item": item, "query": query_params(sample.current_request)}


@sample.route("/missing/{item}", methods=["GET"])
@api
def missing(item: str) -> dict[str, Any]:
    raise NotFoundError(f"no item {item}")


@sample.route("/conflict", methods=["POST"])
@api
def conflict() -> dict[str, Any]:
    raise ConflictError("decided already", details={"decision": "activate"})


@sample.route("/broken", methods=["GET"])
@api
def broken() -> dict[str, Any]:
    raise KeyError("secret-internal-detail")


@pytest.fixture
def client() -> Iterator[Client]:
    with Client(sample) as test_client:
        yield test_client


def _post(client: Client, body: bytes) -> Any:
    return client.http.post("/echo", headers={"Content-Type": "application/json"}, body=body)


def test_a_json_object_is_parsed(client: Client) -> None:
    response = _post(client, json.dumps({"标题": "测试"}).encode())
    assert response.status_code == 200
    assert response.json_body == {"got": {"标题": "测试"}}
    assert response.headers["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "request body is empty"),
        (b"   ", "request body is empty"),
        (b"{not json", "request body is not valid JSON"),
        (b"\xff\xfe", "request body is not valid JSON"),
        (b"[1, 2]", "request body must be a JSON object"),
        (b'"text"', "request body must be a JSON object"),
        (b"{" + b" " * MAX_BODY_BYTES + b"}", "request body too large"),
    ],
)
def test_bad_bodies_get_a_400_that_says_why(client: Client, body: bytes, message: str) -> None:
    response = _post(client, body)
    assert response.status_code == 400
    assert response.json_body["error"] == "validation_error"
    assert response.json_body["message"] == message
    assert response.json_body["problems"]


@pytest.mark.parametrize(
    ("body", "message", "path"),
    [
        (b"[" * 50_000 + b"]" * 50_000, "request body is nested too deeply", ""),
        (
            b'{"n": ' + b"9" * 5000 + b"}",
            "request body contains values that cannot be accepted",
            "/n",
        ),
        (b'{"n": NaN}', "request body contains values that cannot be accepted", "/n"),
        (b'{"t": "\\ud800"}', "request body contains values that cannot be accepted", "/t"),
        (b'{"t": "\\u0000"}', "request body contains values that cannot be accepted", "/t"),
        (b'{"t": 1, "t": 2}', "request body contains values that cannot be accepted", "/t"),
    ],
)
def test_hostile_json_is_a_400_at_its_path(
    client: Client, body: bytes, message: str, path: str
) -> None:
    response = _post(client, body)
    assert response.status_code == 400
    assert response.json_body["message"] == message
    assert response.json_body["problems"][0]["path"] == path


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("/items/a\x00b", "/item"),
        ("/items/a\ud800b", "/item"),
        ("/items/" + "x" * 201, "/item"),
        ("/items/ok?q=%00", "/q"),
        ("/items/ok?%01=1", "/query"),
        ("/items/ok?q=" + "x" * 501, "/q"),
    ],
)
def test_path_parameters_and_query_values_are_text_of_bounded_length(
    client: Client, url: str, path: str
) -> None:
    response = client.http.get(url)
    assert response.status_code == 400, response.body
    assert response.json_body["problems"][0]["path"] == path
    assert client.http.get("/items/滨江?q=‏RTL").json_body == {
        "item": "滨江",
        "query": {"q": "‏RTL"},
    }


def test_an_answer_with_a_stored_lone_surrogate_is_still_json() -> None:
    # Data stored before inputs were checked may hold one; the answer must not become a 500.
    response = json_response({"title": "坏\ud800字"})
    assert json.loads(response.body) == {"title": "坏\ud800字"}
    response.body.encode("utf-8")


def test_application_errors_keep_their_status_and_details(client: Client) -> None:
    missing = client.http.get("/missing/42")
    assert missing.status_code == 404
    assert missing.json_body == {"error": "not_found", "message": "no item 42"}
    conflict = client.http.post("/conflict")
    assert conflict.status_code == 409
    assert conflict.json_body["decision"] == "activate"


def test_an_unexpected_exception_is_a_json_500_without_internals(client: Client) -> None:
    response = client.http.get("/broken")
    assert response.status_code == 500
    assert response.json_body["error"] == "internal_error"
    assert "secret-internal-detail" not in response.body.decode()


@sample.route("/formats", methods=["GET"])
@api
def formats() -> dict[str, Any]:
    return {"format": requested_format(sample.current_request, ("json", "xlsx"))}


def test_the_format_is_json_by_default_and_else_one_of_the_route_s(client: Client) -> None:
    # GIVEN a route that answers json or xlsx
    # WHEN asked without ?format=, with a known one, an unknown one and an empty one
    # THEN json, that one, and a 400 naming the formats (never a guess)
    assert client.http.get("/formats").json_body == {"format": "json"}
    assert client.http.get("/formats?format=xlsx").json_body == {"format": "xlsx"}
    for bad in ("docx", ""):
        answer = client.http.get(f"/formats?format={bad}")
        assert answer.status_code == 400
        assert answer.json_body["problems"] == [{"path": "/format", "message": "one of json, xlsx"}]


def test_the_file_name_is_rfc_5987_with_an_ascii_fallback() -> None:
    header = content_disposition("舆情日报-2026-11-25.docx")
    assert header.startswith('attachment; filename="2026-11-25.docx"')
    assert unquote(header.split("filename*=UTF-8''")[1]) == "舆情日报-2026-11-25.docx"


def test_a_file_is_an_attachment_that_is_never_sniffed() -> None:
    response = file_response(b"PK\x03\x04", "application/x-test", "实时舆情.xlsx")
    assert response.headers["Content-Type"] == "application/x-test"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert str(response.headers["Content-Disposition"]).startswith(
        'attachment; filename="report.xlsx"'
    )
    assert response.body == b"PK\x03\x04"
