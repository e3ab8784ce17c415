"""An incident whose workflow could not be started is started by the sweep, not lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.core.aws import AwsClients
from chalicelib.core.errors import UnavailableError
from chalicelib.core.settings import Settings
from chalicelib.incidents.models import IncidentDraft
from chalicelib.incidents.opener import IncidentOpener
from chalicelib.incidents.store import IncidentStore
from chalicelib.incidents.sweep import IncidentSweep
from chalicelib.workflow.statemachine import StateMachine


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _outage(incident_id: str, drill: bool) -> str:
    raise UnavailableError("Step Functions unreachable (a throttle, an outage)")


def test_a_failed_start_leaves_the_incident_open_and_the_sweep_starts_it(
    clients: AwsClients, settings: Settings
) -> None:
    clock = Clock()
    table = clients.table(settings.tables.incidents)
    draft = IncidentDraft("k-outage", "II", "滨江一院", "家属维权", ["测试"])

    # WHEN the incident is opened while Step Functions is unavailable
    assert IncidentOpener(IncidentStore(table), _outage, clock).open(draft) is True

    # THEN it is stored, open, with no execution yet
    store = IncidentStore(table)
    assert store.require(draft.incident_id)["status"] == "open"
    sfn = clients.client("stepfunctions")
    machine = clients.state_machine_arn(settings.state_machine)
    assert sfn.list_executions(stateMachineArn=machine)["executions"] == []

    starter = StateMachine.of(settings, clients).start
    # AND a sweep within the grace period leaves it alone (its start may still be under way)
    assert IncidentSweep(store, starter, clock).run() == []
    # AND a sweep a minute later starts it, once
    clock.now += timedelta(minutes=2)
    assert IncidentSweep(store, starter, clock).run() == [draft.incident_id]
    IncidentSweep(store, starter, clock).run()
    names = [e["name"] for e in sfn.list_executions(stateMachineArn=machine)["executions"]]
    assert names == [f"incident-{draft.incident_id}"]
