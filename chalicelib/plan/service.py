"""Plan use cases: read the current plan or a version, save a new version, load the example
or a plan file.

Saving validates the whole document first (nothing is written when anything is wrong), computes
what changed, writes version n+1 conditionally (a concurrent save gets 409), then hands the new
and previous versions to ``after_save`` — the alert package's topic reconciliation — whose report
is returned with the version.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from chalicelib.core.clock import Clock, iso, utcnow
from chalicelib.core.errors import ConflictError, NotFoundError, Problem, ValidationError
from chalicelib.plan.defaults import EXAMPLE_PLAN, default_plan
from chalicelib.plan.diff import summarize
from chalicelib.plan.models import PlanView
from chalicelib.plan.store import PlanStore, PlanVersion
from chalicelib.plan.validation import RuleCheck, check_plan, default_rule_check
from chalicelib.scoring import rules

AfterSave = Callable[[PlanView, PlanView | None], dict[str, Any]]
MAX_REASON = 500
MAX_ANSWERS = 20
REVISION = ("plan", "reason", "answers")


def revision_request(body: dict[str, Any]) -> tuple[dict[str, Any], str, list[str]]:
    """``PUT /plan``'s body: the plan document itself, or ``{"plan": {...}, "reason": "…",
    "answers": ["<incident id>", …]}`` — a revision that says why and which incidents'
    evaluations it answers (no plan document has a ``plan`` section). Returns (document,
    reason, answers)."""
    if "plan" not in body:
        return body, "", []
    problems = [Problem(f"/{k}", "unknown field of a revision") for k in body if k not in REVISION]
    if not isinstance(body["plan"], dict):
        problems.append(Problem("/plan", "the plan document"))
    reason = body.get("reason", "")
    if not isinstance(reason, str):
        problems.append(Problem("/reason", "text"))
    answers = body.get("answers", [])
    if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
        problems.append(Problem("/answers", "a list of incident ids"))
    if problems:
        raise ValidationError("invalid plan revision", problems)
    return body["plan"], reason, answers


def current_or_example(store: PlanStore) -> dict[str, Any]:
    """The stored plan's document, or the example plan while none is stored (a new deployment
    scores and validates against the example, as local mode does on first start)."""
    latest = store.latest()
    return latest.doc if latest else default_plan()


def subject_ids(store: PlanStore) -> set[str]:
    """The ids of the current plan's subjects (监测主体): what a report or drill may name."""
    return {str(s["id"]) for s in current_or_example(store).get("subjects", [])}


def scoring_rule_check() -> RuleCheck:
    """The length check, then the scoring package's rule parser (its error names the position)."""

    def check(text: str) -> str | None:
        return default_rule_check(text) or rules.check(text)

    return check


class PlanService:
    def __init__(
        self,
        store: PlanStore,
        *,
        rule_check: RuleCheck | None = None,
        after_save: AfterSave | None = None,
        incident_exists: Callable[[str], bool] | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self._store = store
        self._rule_check = rule_check or default_rule_check
        self._after_save = after_save
        # Whether an incident a revision answers exists (None: any id is taken).
        self._incident_exists = incident_exists
        self._clock = clock

    def current(self) -> PlanVersion:
        latest = self._store.latest()
        if latest is None:
            raise NotFoundError("no plan has been saved yet; PUT /plan to create version 1")
        return latest

    def current_view(self) -> PlanView | None:
        latest = self._store.latest()
        return PlanView(latest.doc, latest.version) if latest else None

    def version(self, number: int) -> PlanVersion:
        found = self._store.get(number)
        if found is None:
            raise NotFoundError(f"plan version {number} does not exist")
        return found

    def versions(self) -> list[dict[str, Any]]:
        return [v.meta() for v in self._store.versions()]

    def save(
        self,
        doc: dict[str, Any],
        created_by: str,
        *,
        base_version: int | None = None,
        reason: str = "",
        answers: Sequence[str] = (),
    ) -> tuple[PlanVersion, dict[str, Any] | None]:
        """Validate and store ``doc`` as the next version; then reconcile. 409 on a lost race.

        ``reason`` says why; ``answers`` names the incidents whose evaluation the revision
        answers (预案修订), each one that exists."""
        check_plan(doc, self._rule_check)
        self._check_revision(reason, answers)
        latest = self._store.latest()
        current = latest.version if latest else 0
        if base_version is not None and base_version != current:
            raise ConflictError(
                f"the plan is at version {current}, not {base_version}; reload and apply again",
                details={"version": current},
            )
        saved = PlanVersion(
            version=current + 1,
            doc=doc,
            created_at=iso(self._clock()),
            created_by=created_by,
            summary=summarize(latest.doc if latest else None, doc),
            reason=reason.strip(),
            answers=tuple(dict.fromkeys(answers)),
        )
        self._store.put(saved)
        report = None
        if self._after_save is not None:
            previous = PlanView(latest.doc, latest.version) if latest else None
            report = self._after_save(PlanView(saved.doc, saved.version), previous)
        return saved, report

    def _check_revision(self, reason: str, answers: Sequence[str]) -> None:
        problems = []
        reason, answers = reason.strip(), list(dict.fromkeys(answers))
        if len(reason) > MAX_REASON:
            problems.append(Problem("/reason", f"at most {MAX_REASON} characters"))
        if len(answers) > MAX_ANSWERS:
            problems.append(Problem("/answers", f"at most {MAX_ANSWERS} incidents"))
        for i, incident in enumerate(answers[:MAX_ANSWERS]):
            if not isinstance(incident, str) or not 0 < len(incident) <= 64:
                problems.append(Problem(f"/answers/{i}", "an incident id"))
            elif self._incident_exists is not None and not self._incident_exists(incident):
                problems.append(Problem(f"/answers/{i}", f"no incident {incident}"))
        if problems:
            raise ValidationError("invalid plan revision", problems)

    def load_initial(self, doc: dict[str, Any], created_by: str = "example plan") -> bool:
        """Save ``doc`` as version 1 unless a plan exists; never overwrites. True if written."""
        if self._store.latest() is not None:
            return False
        try:
            self.save(doc, created_by, base_version=0)
        except ConflictError:
            return False
        return True


def load_example() -> dict[str, Any]:
    return load_plan_file(EXAMPLE_PLAN)


def load_plan_file(path: Path) -> dict[str, Any]:
    """A plan document from a JSON file (validated when it is saved, like any plan)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        problems = [Problem("", str(err))]
        raise ValidationError(f"cannot read the plan file {path}", problems) from None
    if not isinstance(doc, dict):
        raise ValidationError(f"the plan file {path} is not a JSON object", [])
    return doc
