"""``docs/openapi.yaml`` describes exactly the app's routes: a new route without documentation,
or documentation left behind by a removed route, fails here (the contract test against local mode
is ``tests/e2e/test_api_contract.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from app import app

DOC = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def _document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DOC.read_text(encoding="utf-8"))
    return loaded


def _documented(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in doc["paths"].items()
        for method in item
        if method in METHODS
    }


def test_every_route_is_documented_and_nothing_else() -> None:
    # GIVEN the Chalice app's routes WHEN compared with the document's operations
    routes = {(method, path) for path, entries in app.routes.items() for method in entries}
    documented = _documented(_document())
    # THEN they are the same set
    assert sorted(routes - documented) == [], "routes missing from docs/openapi.yaml"
    assert sorted(documented - routes) == [], "documented operations the app does not have"


def test_operations_are_complete() -> None:
    doc = _document()
    ids: list[str] = []
    for path, item in doc["paths"].items():
        shared = item.get("parameters", [])
        for method, operation in item.items():
            if method not in METHODS:
                continue
            where = f"{method.upper()} {path}"
            ids.append(operation["operationId"])
            assert operation.get("tags"), where
            statuses = set(operation["responses"])
            assert statuses & {"200", "201"}, where
            # Every route but /health takes a token, so each documents its 401.
            if operation.get("security") != []:
                assert "401" in statuses, where
            # Each {name} in the path is declared as a path parameter.
            declared = {
                p["name"]
                for p in [*shared, *operation.get("parameters", [])]
                if "$ref" not in p and p["in"] == "path"
            } | {
                doc["components"]["parameters"][p["$ref"].rsplit("/", 1)[-1]]["name"]
                for p in [*shared, *operation.get("parameters", [])]
                if "$ref" in p
            }
            named = {part[1:-1] for part in path.split("/") if part.startswith("{")}
            assert named <= declared, where
            if method in {"post", "put"} and "requestBody" in operation:
                assert "400" in statuses, where
    assert len(ids) == len(set(ids)), "operationIds must be unique"
