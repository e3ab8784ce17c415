"""Alerts (告警通知): SNS fan-out to the 指挥部 and the working groups, through an outbox.

Public API (the workflow, scoring and sources packages call only this):

- :class:`chalicelib.alerts.models.AlertRequest` ``(incident_key, event, level, template_id,
  variables, groups=(), email_subject=None, email_body="", links=(), drill=False,
  requires_ack=True)``
- :class:`chalicelib.alerts.service.AlertService` (build it with
  :func:`chalicelib.alerts.wiring.alert_service`):

  - ``send(request) -> list[str]``: outbox message ids, one per group (the HQ is always added for
    levels I–II; no groups means the level's ``alert_groups``). The same (incident, event, level,
    group) again returns the same ids and publishes nothing.
  - ``acknowledge(message_id, by, *, group) -> list[str]`` and
    ``acknowledge_incident(incident_key, by, *, group) -> list[str]``: stop repeats and
    escalation of ``group``'s alerts (None: every group's, as the 指挥部 may).
  - ``dispatch_due() -> DispatchReport``: the ``alert_dispatch`` schedule (retries with backoff
    capped at 2 minutes, repeats of unacknowledged alerts, escalation, catching up a failed
    reconciliation; the backlog left).
  - ``backlog() -> Backlog``: messages not yet published, and the oldest one's time.
- :class:`chalicelib.alerts.topics.Reconciler` ``reconcile(plan, previous)``: topics and
  subscriptions from the plan; :class:`chalicelib.plan.service.PlanService` calls it on save.

Routes: ``GET /outbox`` (hq), ``POST /alerts/{message_id}/ack`` and
``POST /alerts/incident/{incident_key}/ack`` (member and above, own group; hq any).
"""
