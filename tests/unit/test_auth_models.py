"""Roles are ordered, tokens are kept only as hashes, and bearer headers parse strictly."""

from __future__ import annotations

import hashlib

import pytest

from chalicelib.auth.models import Principal, Role, hash_token
from chalicelib.auth.service import bearer_token


def test_roles_are_ordered_from_viewer_to_hq() -> None:
    # GIVEN the roles in declaration order THEN each ranks above the one before
    assert [r.rank for r in Role] == list(range(len(Role)))
    assert list(Role) == [Role.VIEWER, Role.REPORTER, Role.MEMBER, Role.LEAD, Role.HQ]


@pytest.mark.parametrize(
    ("role", "minimum", "allowed"),
    [
        (Role.HQ, Role.VIEWER, True),
        (Role.HQ, Role.HQ, True),
        (Role.LEAD, Role.MEMBER, True),
        (Role.MEMBER, Role.MEMBER, True),
        (Role.MEMBER, Role.LEAD, False),
        (Role.REPORTER, Role.MEMBER, False),
        (Role.VIEWER, Role.REPORTER, False),
    ],
)
def test_at_least(role: Role, minimum: Role, allowed: bool) -> None:
    assert role.at_least(minimum) is allowed


def test_roles_round_trip_through_their_values() -> None:
    # GIVEN the stored value of a role THEN it parses back to the same role
    assert Role("lead") is Role.LEAD
    with pytest.raises(ValueError, match="admin"):
        Role("admin")


def test_principal_as_dict() -> None:
    assert Principal("张三", Role.LEAD, "网络组").as_dict() == {
        "name": "张三",
        "role": "lead",
        "group": "网络组",
    }
    assert Principal("viewer", Role.VIEWER).as_dict()["group"] is None


def test_hash_token_is_sha256_hex_and_reveals_nothing() -> None:
    # GIVEN a token
    token = "yq_secret-value"

    # WHEN hashed
    digest = hash_token(token)

    # THEN it is the SHA-256 hex digest, stable, and does not contain the token
    assert digest == hashlib.sha256(token.encode()).hexdigest()
    assert len(digest) == 64
    assert hash_token(token) == digest
    assert hash_token(token + "x") != digest
    assert "secret" not in digest


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"authorization": "Bearer abc123"}, "abc123"),
        ({"authorization": "bearer abc123"}, "abc123"),
        ({"authorization": "BEARER   abc123  "}, "abc123"),
        ({"authorization": "  Bearer abc123"}, "abc123"),
        ({"authorization": "Basic dXNlcjpwYXNz"}, ""),
        ({"authorization": "Bearer"}, ""),
        ({"authorization": "Bearer "}, ""),
        ({"authorization": "abc123"}, ""),
        ({"authorization": ""}, ""),
        ({"authorization": None}, ""),
        ({}, ""),
    ],
)
def test_bearer_token(headers: dict[str, str | None], expected: str) -> None:
    # GIVEN request headers (Chalice lower-cases header names) THEN only a Bearer token counts
    assert bearer_token(headers) == expected
