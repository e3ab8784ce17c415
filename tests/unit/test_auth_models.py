"""Roles are ordered, tokens are kept only as hashes, and bearer headers parse strictly."""

from __future__ import annotations

import hashlib

import pytest

from chalicelib.auth.models import Principal, Role, hash_token
from chalicelib.auth.service import bearer_token
from chalicelib.core.errors import ForbiddenError, ValidationError


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
    assert Principal("张三", Role.LEAD, "monitoring").as_dict() == {
        "name": "张三",
        "role": "lead",
        "group": "monitoring",
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


@pytest.mark.parametrize("role", [Role.MEMBER, Role.LEAD])
def test_a_member_or_lead_without_a_group_is_not_a_principal(role: Role) -> None:
    # GIVEN a role that acts for one working group WHEN it is given none THEN it is refused
    with pytest.raises(ValidationError) as refused:
        Principal("无组成员", role)
    assert [p.path for p in refused.value.problems] == ["/group"]


@pytest.mark.parametrize("group", ["", "网络组", "Office", "a" * 33, "x y"])
def test_a_group_must_be_a_plan_group_id(group: str) -> None:
    with pytest.raises(ValidationError):
        Principal("成员", Role.MEMBER, group)


def test_the_hq_acts_for_every_group_and_a_member_for_its_own() -> None:
    hq = Principal("指挥部", Role.HQ)
    member = Principal("宣传组成员", Role.MEMBER, "publicity")
    lead = Principal("办公室组长", Role.LEAD, "office")
    viewer = Principal("只读", Role.VIEWER, "publicity")
    assert hq.scope is None
    assert member.scope == "publicity"
    assert hq.acts_for("office")
    assert hq.acts_for("publicity")
    assert member.acts_for("publicity")
    assert not member.acts_for("office")
    assert lead.acts_for("office")
    assert not lead.acts_for("publicity")
    # a viewer or reporter acts for nobody, even with a group
    assert not viewer.acts_for("publicity")
    with pytest.raises(ForbiddenError):
        _ = Principal("上报员", Role.REPORTER).scope


def test_contacts_are_for_the_hq_and_for_a_lead_of_their_own_group() -> None:
    assert Principal("指挥部", Role.HQ).sees_contacts_of("office")
    lead = Principal("办公室组长", Role.LEAD, "office")
    assert lead.sees_contacts_of("office")
    assert not lead.sees_contacts_of("hq")
    assert not Principal("办公室成员", Role.MEMBER, "office").sees_contacts_of("office")
    assert not Principal("只读", Role.VIEWER).sees_contacts_of("office")
