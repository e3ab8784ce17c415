"""Bearer tokens: issued by the token store, stored only as hashes, checked on every request."""

from __future__ import annotations

import json

import boto3
import pytest
from chalice.test import Client

from chalicelib.auth.models import Principal, Role, hash_token
from chalicelib.auth.service import TokenStore, authenticate
from chalicelib.core.aws import AwsClients
from chalicelib.core.errors import AuthenticationError, ForbiddenError
from chalicelib.core.settings import Settings, get_settings


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
    token = store.issue("李四", Role.LEAD, group="网络组")

    # WHEN it is presented
    response = api_client.http.get("/whoami", headers=bearer(token))

    # THEN 200 with the caller's name, role and group, and the deployment's time scale (the
    # dashboard judges countdowns in plan minutes)
    assert response.status_code == 200
    assert response.json_body == {
        "name": "李四",
        "role": "lead",
        "group": "网络组",
        "time_scale": get_settings().time_scale,
    }


def test_a_basic_auth_header_is_not_a_token(api_client: Client, store: TokenStore) -> None:
    token = store.issue("王五", Role.VIEWER)
    response = api_client.http.get("/whoami", headers={"Authorization": f"Basic {token}"})
    assert response.status_code == 401


def test_only_the_hash_of_a_token_is_stored(store: TokenStore, settings: Settings) -> None:
    # GIVEN issued tokens
    tokens = [store.issue(f"member-{i}", Role.MEMBER) for i in range(3)]

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
    token = store.issue("member", Role.MEMBER)
    headers = {"authorization": f"Bearer {token}"}

    # THEN it may act as a member, not as a lead; without a token nobody may act
    assert authenticate(store, headers, Role.MEMBER).role is Role.MEMBER
    with pytest.raises(ForbiddenError, match="needs lead"):
        authenticate(store, headers, Role.LEAD)
    with pytest.raises(AuthenticationError):
        authenticate(store, {}, Role.VIEWER)
