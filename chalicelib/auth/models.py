"""Roles and principals: pure data, no I/O."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """Who may do what. Ordered: each role may do everything the roles below it may."""

    VIEWER = "viewer"
    REPORTER = "reporter"  # 人工上报
    MEMBER = "member"  # working-group member
    LEAD = "lead"  # 组长
    HQ = "hq"  # 指挥部

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


@dataclass(frozen=True)
class Principal:
    """The caller behind a bearer token."""

    name: str
    role: Role
    group: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"name": self.name, "role": self.role.value, "group": self.group}


def hash_token(token: str) -> str:
    """Tokens are stored only as their SHA-256; a table dump reveals no usable token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
