"""Tokens for tests: one per role, with the group that a member or lead must always have."""

from __future__ import annotations

from chalicelib.auth.models import GROUP_ROLES, Role
from chalicelib.auth.store import TokenStore


def role_tokens(store: TokenStore, group: str = "monitoring") -> dict[str, str]:
    """``{role: token}`` for every role; the member and the lead act for ``group``."""
    return {
        role.value: store.issue(f"test {role.value}", role, group if role in GROUP_ROLES else None)
        for role in Role
    }
