"""The emergency plan (应急预案) as versioned data: organisation, levels, measures, escalation,
subjects and SMS templates, validated as a whole and stored one version per save.

Public seams (other packages call these):

- :func:`chalicelib.plan.validation.validate_plan` ``(doc, rule_check=None) -> list[Problem]``
  and :func:`~chalicelib.plan.validation.check_plan` (raises ``ValidationError``);
  ``rule_check: Callable[[str], str | None]`` is where the scoring branch's rule parser plugs in.
- :class:`chalicelib.plan.service.PlanService` ``current()``, ``version(n)``, ``save(doc, by)``.
- :mod:`chalicelib.plan.defaults`: the plan while none is stored (``default_plan``) and the one
  order of the levels (``more_severe``, ``worst``, ``LEVEL_RANK``).
- :class:`chalicelib.plan.models.PlanView`: read helpers over a validated document
  (``level(id)``, ``group(id)``, ``members(group)``, ``level_for_risk(score)``).
"""
