"""Token store: issue tokens, keep only their hashes, look callers up by token."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from chalicelib.auth.models import Principal, Role, hash_token
from chalicelib.core.errors import AuthenticationError, ForbiddenError, aws_errors


class TokenStore:
    """Bearer tokens in the tokens table, keyed by the token's SHA-256."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def issue(self, name: str, role: Role, group: str | None = None) -> str:
        token = "yq_" + secrets.token_urlsafe(32)
        self.register(token, name, role, group)
        return token

    def register(self, token: str, name: str, role: Role, group: str | None = None) -> None:
        item: dict[str, Any] = {
            "pk": hash_token(token),
            "name": name,
            "role": role.value,
            "created_at": datetime.now(UTC).isoformat(),
        }
        if group:
            item["group"] = group
        with aws_errors("tokens table"):
            self._table.put_item(Item=item)

    def lookup(self, token: str) -> Principal | None:
        if not token:
            return None
        with aws_errors("tokens table"):
            item = self._table.get_item(Key={"pk": hash_token(token)}).get("Item")
        if not item or item.get("revoked"):
            return None
        try:
            role = Role(item["role"])
        except ValueError:
            return None
        return Principal(name=str(item["name"]), role=role, group=item.get("group"))


def bearer_token(headers: Any) -> str:
    """The token from an ``Authorization: Bearer <token>`` header, or an empty string."""
    value = str(headers.get("authorization") or "")
    scheme, _, token = value.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def authenticate(store: TokenStore, headers: Any, minimum: Role) -> Principal:
    """The caller, who must hold at least ``minimum``: 401 without a valid token, 403 below it."""
    principal = store.lookup(bearer_token(headers))
    if principal is None:
        raise AuthenticationError("a valid bearer token is required")
    if not principal.role.at_least(minimum):
        raise ForbiddenError(f"role {principal.role.value} may not do this; needs {minimum.value}")
    return principal
