"""The primitives a plan document (预案) is checked with: check a value, record a problem, walk on.

A crisis team editing the plan at night needs every problem in one answer, so each primitive
here returns the value when it is usable, and otherwise records a :class:`Problem` at its
JSON-pointer path and returns something the walk can go on with (``None``, ``""``, ``[]``).
Integers outside their bounds are also remembered with the nearest bound: that is what
:func:`~chalicelib.plan.validation.bounded_plan` moves them to. What each section must hold is
in :mod:`.validation` (and the SMS templates' rules in :mod:`.templates`). Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from chalicelib.core.errors import Problem

# The ids of groups, members, measures, subjects and templates.
# \A…\Z, not ^…$: "$" also matches before a final newline, and "office\n" is not a slug.
SLUG = re.compile(r"\A[a-z][a-z0-9_-]{0,31}\Z")


def _shown(value: int) -> str:
    """An integer for a message; a huge one by its size (Python prints at most 4,300 digits)."""
    return (
        str(value)
        if abs(value) < 10**15
        else f"a {abs(value).bit_length() * 30103 // 100000 + 1}-digit number"
    )


class Checker:
    """Every problem found so far, in the order the walk found them."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        # Integers outside their bounds, with the bound nearest to each (see bounded_plan).
        self.out_of_range: list[tuple[Mapping[str, Any], str, int, Problem]] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    # -- each returns the value when it is usable, else records a problem ---------------------
    def obj(self, value: Any, path: str) -> Mapping[str, Any] | None:
        if isinstance(value, Mapping):
            return value
        self.add(path, "must be an object")
        return None

    def array(self, value: Any, path: str, *, non_empty: bool = False) -> list[Any]:
        if not isinstance(value, list):
            self.add(path, "must be an array")
            return []
        if non_empty and not value:
            self.add(path, "must not be empty")
        return value

    def entries(self, value: Any, path: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
        """Each object of a section that must be a non-empty array, with its path; an entry
        that is not an object is a problem, and passed over."""
        for i, raw in enumerate(self.array(value, path, non_empty=True)):
            entry = self.obj(raw, f"{path}/{i}")
            if entry is not None:
                yield f"{path}/{i}", entry

    def text(self, parent: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> str:
        value = parent.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value.strip():
            self.add(f"{path}/{key}", "must be a non-empty string")
            return ""
        return value

    def integer(
        self, parent: Mapping[str, Any], key: str, path: str, *, low: int, high: int, unit: str = ""
    ) -> int | None:
        """``parent[key]`` if it is an integer from ``low`` to ``high``; else a problem naming
        the bounds (true and false are not numbers, though Python counts them as ints)."""
        value = parent.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(path, f"must be an integer from {low} to {high}{unit}")
            return None
        if not low <= value <= high:
            problem = Problem(path, f"must be from {low} to {high}{unit}, not {_shown(value)}")
            self.problems.append(problem)
            self.out_of_range.append((parent, key, min(max(value, low), high), problem))
            return None
        return value

    def slug(self, parent: Mapping[str, Any], path: str) -> str:
        value = parent.get("id")
        if not isinstance(value, str) or not SLUG.match(value):
            self.add(f"{path}/id", "must be a lower-case ASCII slug (a-z, 0-9, _ or -; ≤ 32)")
            return ""
        return value

    def unique(self, ids: Sequence[tuple[str, str]], what: str) -> None:
        seen: dict[str, str] = {}
        for value, path in ids:
            if not value:
                continue
            if value in seen:
                self.add(path, f"duplicate {what} id {value!r} (first at {seen[value]})")
            else:
                seen[value] = path
