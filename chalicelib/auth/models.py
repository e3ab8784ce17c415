"""Roles and principals: pure data, no I/O.

A principal's role says what it may do; its group says for whom. Members and leads (组员, 组长)
act for one working group — its tasks, its alerts — so a member or lead without a group is not a
principal at all: otherwise it would act for every group, as only the 指挥部 may.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

from chalicelib.core.errors import ForbiddenError, Problem, ValidationError
from chalicelib.plan.checker import SLUG


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


# Roles that act for one working group and therefore need one.
GROUP_ROLES: frozenset[Role] = frozenset({Role.MEMBER, Role.LEAD})


def principal_problems(role: Role, group: str | None) -> list[Problem]:
    """What is wrong with giving ``role`` the ``group`` (a plan group id, or None)."""
    if group is None:
        if role in GROUP_ROLES:
            return [Problem("/group", f"a {role.value} acts for one working group: name it")]
        return []
    if not isinstance(group, str) or not SLUG.match(group):
        return [Problem("/group", "must be a plan group id (a-z, 0-9, _ or -; ≤ 32)")]
    return []


@dataclass(frozen=True)
class Principal:
    """The caller behind a bearer token. Constructing one checks the role/group invariant."""

    name: str
    role: Role
    group: str | None = None

    def __post_init__(self) -> None:
        problems = principal_problems(self.role, self.group)
        if problems:
            raise ValidationError("not a valid principal", problems)

    @property
    def is_hq(self) -> bool:
        return self.role is Role.HQ

    @property
    def scope(self) -> str | None:
        """The group this principal acts for; None means every group, which only the 指挥部
        does. A principal that acts for no group (a viewer, a reporter) has no scope: 403."""
        if self.is_hq:
            return None
        if self.group is None:
            raise ForbiddenError(f"a {self.role.value} acts for no working group")
        return self.group

    def acts_for(self, group: str) -> bool:
        """May act (acknowledge, answer a task) on behalf of ``group``: the HQ for any group, a
        member or lead for its own."""
        return self.is_hq or (self.role in GROUP_ROLES and self.group == group)

    def sees_contacts_of(self, group: str) -> bool:
        """May read the phone numbers and e-mail addresses of ``group``'s members: the HQ all,
        a lead those of the group it leads; everyone else sees them masked."""
        return self.is_hq or (self.role is Role.LEAD and self.group == group)

    def as_dict(self) -> dict[str, str | None]:
        return {"name": self.name, "role": self.role.value, "group": self.group}


def hash_token(token: str) -> str:
    """Tokens are stored only as their SHA-256; a table dump reveals no usable token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
