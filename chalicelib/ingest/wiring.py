"""Builds the ingest pipeline for the stage: the scoring sink on the stage's tables, opening
incidents through the response workflow's opener. The crawl worker, manual reports and the repost
storm tool take their sink from here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from chalicelib.clusters.store import ClusterStore
from chalicelib.core.aws import AwsClients
from chalicelib.core.clock import Clock, utcnow
from chalicelib.core.settings import Settings
from chalicelib.incidents.opener import IncidentOpener
from chalicelib.ingest.sink import ScoringSink
from chalicelib.plan.defaults import default_plan
from chalicelib.posts.store import PostStore
from chalicelib.trends.store import TrendStore
from chalicelib.workflow.wiring import incident_opener


def build_scoring_sink(
    settings: Settings,
    clients: AwsClients,
    plan: Callable[[], Mapping[str, Any]] = default_plan,
    incidents: IncidentOpener | None = None,
    clock: Clock = utcnow,
) -> ScoringSink:
    """The sink wired to the stage's tables and the response workflow (composition helper)."""
    opener = incidents or incident_opener(settings, clients, clock)
    return ScoringSink(
        PostStore(clients.table(settings.tables.posts)),
        ClusterStore(clients.table(settings.tables.clusters)),
        opener,
        plan=plan,
        clock=clock,
        trends=TrendStore(clients.table(settings.tables.trends)),
    )
