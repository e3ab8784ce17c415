"""Bearer tokens: issued by the token store, stored only as hashes, checked on every request."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from chalice.test import Client

from chalicelib.auth.models import Principal, Role, hash_token
from chalicelib.auth.service import authenticate
from chalicelib.auth.store import TokenStore
from chalicelib.core.aws import AwsClients
from chalicelib.core.errors import AuthenticationError, ForbiddenError, ValidationError
from chalicelib.core.settings import Settings, get_settings
from chalicelib.local.runtime import LocalOptions, LocalRuntime


@pytest.fixture
def store(clients: AwsClients, settings: Settings) -> TokenStore:
    return TokenStore(clients.table(settings.tables.tokens))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_whoami_without_a_token_is_401_json(api_client: Client) -> None:
    # GIVEN no Authorization header WHEN GET /whoami
    response = api_client.http.get("/whoami")

    # THEN 401 with a JSON error, not Chalice's default
    assert response.status_code == 401
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json_body["error"] == "unauthenticated"


def test_whoami_with_an_unknown_token_is_401(api_client: Client, store: TokenStore) -> None:
    # GIVEN a token that was never issued (while another one was)
    store.issue("张三", Role.HQ)

    # WHEN it is presented THEN 401
    response = api_client.http.get("/whoami", headers=bearer("yq_not-a-real-token"))
    assert response.status_code == 401
    assert response.json_body["error"] == "unauthenticated"


def test_whoami_with_an_issued_token_names_the_caller(
    api_client: Client, store: TokenStore
) -> None:
    # GIVEN a token issued to a working-group lead
    token = store.issue("李四", Role.LEAD, group="monitoring")

    # WHEN it is presented
    response = api_client.http.get("/whoami", headers=bearer(token))

    # THEN 200 with the caller's name, role and group, and the deployment's time scale (the
    # dashboard judges countdowns in plan minutes)
    assert response.status_code == 200
    assert response.json_body == {
        "name": "李四",
        "role": "lead",
        "group": "monitoring",
        "time_scale": get_settings().time_scale,
    }


def test_a_basic_auth_header_is_not_a_token(api_client: Client, store: TokenStore) -> None:
    token = store.issue("王五", Role.VIEWER)
    response = api_client.http.get("/whoami", headers={"Authorization": f"Basic {token}"})
    assert response.status_code == 401


def test_only_the_hash_of_a_token_is_stored(store: TokenStore, settings: Settings) -> None:
    # GIVEN issued tokens
    tokens = [store.issue(f"member-{i}", Role.MEMBER, "office") for i in range(3)]

    # WHEN the whole tokens table is dumped
    items = boto3.resource("dynamodb").Table(settings.tables.tokens).scan()["Items"]
    dump = json.dumps(items, ensure_ascii=False, default=str)

    # THEN no raw token appears anywhere, only their hashes as keys
    assert len(items) == 3
    for token in tokens:
        assert token.startswith("yq_")
        assert token not in dump
        assert token.removeprefix("yq_") not in dump
    assert {item["pk"] for item in items} == {hash_token(t) for t in tokens}


def test_lookup_and_revocation(store: TokenStore, settings: Settings) -> None:
    # GIVEN a registered token
    store.register("yq_fixed-token", "赵六", Role.REPORTER)
    assert store.lookup("yq_fixed-token") == Principal("赵六", Role.REPORTER)
    assert store.lookup("") is None

    # WHEN it is revoked in the table THEN it no longer authenticates
    boto3.resource("dynamodb").Table(settings.tables.tokens).update_item(
        Key={"pk": hash_token("yq_fixed-token")},
        UpdateExpression="SET revoked = :t",
        ExpressionAttributeValues={":t": True},
    )
    assert store.lookup("yq_fixed-token") is None


def test_an_unknown_stored_role_does_not_authenticate(
    store: TokenStore, settings: Settings
) -> None:
    boto3.resource("dynamodb").Table(settings.tables.tokens).put_item(
        Item={"pk": hash_token("yq_odd"), "name": "x", "role": "superuser"}
    )
    assert store.lookup("yq_odd") is None


def test_authenticate_enforces_the_minimum_role(store: TokenStore) -> None:
    # GIVEN a member's token
    token = store.issue("member", Role.MEMBER, "office")
    headers = {"authorization": f"Bearer {token}"}

    # THEN it may act as a member, not as a lead; without a token nobody may act
    assert authenticate(store, headers, Role.MEMBER).role is Role.MEMBER
    with pytest.raises(ForbiddenError, match="needs lead"):
        authenticate(store, headers, Role.LEAD)
    with pytest.raises(AuthenticationError):
        authenticate(store, {}, Role.VIEWER)


@pytest.mark.parametrize("role", [Role.MEMBER, Role.LEAD])
def test_a_member_or_lead_token_without_a_group_is_never_issued(
    store: TokenStore, settings: Settings, role: Role
) -> None:
    # WHEN a member or lead token is asked for without a working group
    with pytest.raises(ValidationError) as refused:
        store.issue("无组成员", role)

    # THEN it is refused with the problem named, and nothing is written
    assert [p.path for p in refused.value.problems] == ["/group"]
    assert boto3.resource("dynamodb").Table(settings.tables.tokens).scan()["Items"] == []


@pytest.mark.parametrize("role", ["member", "lead"])
def test_a_stored_member_or_lead_without_a_group_does_not_authenticate(
    api_client: Client, store: TokenStore, settings: Settings, role: str
) -> None:
    # GIVEN a member or lead token stored without a group (before the rule, or by hand)
    boto3.resource("dynamodb").Table(settings.tables.tokens).put_item(
        Item={"pk": hash_token("yq_groupless"), "name": "无组成员", "role": role}
    )

    # THEN it is no principal: it cannot even say who it is, let alone acknowledge alerts
    assert store.lookup("yq_groupless") is None
    assert api_client.http.get("/whoami", headers=bearer("yq_groupless")).status_code == 401
    acked = api_client.http.post("/alerts/incident/inc-1/ack", headers=bearer("yq_groupless"))
    assert acked.status_code == 401


def test_local_mode_gives_its_member_and_lead_tokens_a_group(
    clients: AwsClients, store: TokenStore, tmp_path: Path
) -> None:
    # GIVEN local mode's token issuing, on a first start and again on a restart
    runtime = LocalRuntime(LocalOptions(state_dir=tmp_path))
    runtime._issue_tokens(clients)
    (tmp_path / "local.json").write_text(
        json.dumps({"tokens": runtime.tokens, "group_tokens": runtime.group_tokens})
    )
    again = LocalRuntime(LocalOptions(state_dir=tmp_path))
    again._issue_tokens(clients)

    # THEN the member and the lead act for 舆情监测组, the other roles for no group, and each
    # group token for its group; the restart kept the same tokens
    assert again.tokens == runtime.tokens
    shown = {role: store.lookup(token) for role, token in again.tokens.items()}
    assert {role: p.group for role, p in shown.items() if p} == {
        "viewer": None,
        "reporter": None,
        "member": "monitoring",
        "lead": "monitoring",
        "hq": None,
    }
    for group, token in again.group_tokens.items():
        assert store.lookup(token) == Principal(f"local {group} lead", Role.LEAD, group)
