"""Token store: issue tokens, keep only their hashes, look callers up by token.

The store refuses to issue a member or lead token without a working group, and a stored member or
lead without one (written before this rule, or by hand) does not authenticate: such a token would
otherwise acknowledge every group's alerts.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from chalicelib.auth.models import Principal, Role, hash_token, principal_problems
from chalicelib.core.errors import (
    ValidationError,
    YuqingError,
    aws_errors,
)
from chalicelib.core.observability import logger


class TokenStore:
    """Bearer tokens in the tokens table, keyed by the token's SHA-256."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def issue(self, name: str, role: Role, group: str | None = None) -> str:
        token = "yq_" + secrets.token_urlsafe(32)
        self.register(token, name, role, group)
        return token

    def register(self, token: str, name: str, role: Role, group: str | None = None) -> None:
        """Store ``token``'s hash for the principal; 400 (nothing written) for a member or lead
        without a group, or a group that is not a plan group id."""
        problems = principal_problems(role, group)
        if problems:
            raise ValidationError("cannot issue this token", problems)
        item: dict[str, Any] = {
            "pk": hash_token(token),
            "name": name,
            "role": role.value,
            "created_at": datetime.now(UTC).isoformat(),
        }
        if group is not None:
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
        group = item.get("group")
        try:
            return Principal(name=str(item["name"]), role=role, group=group)
        except YuqingError:
            # A member or lead without a group acts for nobody; say why the token fails.
            logger.warning(
                "stored token refused: its role needs a working group",
                extra={"holder": str(item["name"]), "role": role.value},
            )
            return None
