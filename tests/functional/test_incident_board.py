"""The incident board (``GET /incidents``) while the workflow moves incidents on.

The board reads one status after another (one Query of the ``by_status`` index each); an
incident whose workflow moves it on between two of those reads was listed twice, and the
dashboard drew two cards with one id. The store below moves an incident on exactly between two
reads, so the race happens every time instead of now and then.
"""

from __future__ import annotations

from typing import Any

from chalicelib.core.aws import AwsClients
from chalicelib.core.settings import Settings
from chalicelib.incidents.models import META
from chalicelib.incidents.queries import IncidentQueries
from chalicelib.incidents.store import IncidentStore
from chalicelib.workflow.statemachine import StateMachine


class MovesOnBetweenReads(IncidentStore):
    """An incidents table whose workflow moves ``incident`` to ``to`` right after the board has
    read the incidents with status ``after``."""

    def __init__(self, table: Any, incident: str, after: str, to: str) -> None:
        super().__init__(table)
        self._move = (incident, after, to)

    def by_status(self, status: str, limit: int = 100) -> list[dict[str, Any]]:
        found = super().by_status(status, limit)
        incident, after, to = self._move
        if status == after:
            self.update(incident, META, {"status": to})
        return found


def _incident(store: IncidentStore, incident_id: str, status: str, opened_at: str) -> None:
    store.put_once(
        incident_id,
        META,
        {
            "status": status,
            "level": "II",
            "level_rank": 3,
            "title": incident_id,
            "opened_at": opened_at,
            "drill": False,
        },
    )


def test_an_incident_that_moves_on_during_the_read_is_listed_once_at_its_newer_status(
    clients: AwsClients, settings: Settings
) -> None:
    # GIVEN two incidents, one of which the workflow moves from 已报告 to 待研判 while the board
    # is between its reads of those two statuses
    table = clients.table(settings.tables.incidents)
    store = MovesOnBetweenReads(table, "c-moving", after="reported", to="awaiting_decision")
    _incident(store, "c-moving", "reported", "2026-12-01T00:00:01+00:00")
    _incident(store, "c-still", "active", "2026-12-01T00:00:00+00:00")

    # WHEN the board is read
    rows = IncidentQueries(store, StateMachine(None, "arn:aws:states:::stateMachine:unused")).list(
        status=None, level=None, drill=False
    )

    # THEN each incident is on it once, the moving one at the status it moved to
    assert [(r["incident_id"], r["status"]) for r in rows] == [
        ("c-moving", "awaiting_decision"),
        ("c-still", "active"),
    ]
