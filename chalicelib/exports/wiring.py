"""Building the export service from settings and clients."""

from __future__ import annotations

from chalicelib.core.aws import get_clients
from chalicelib.core.settings import get_settings
from chalicelib.exports.service import Workbooks
from chalicelib.plan.store import PlanStore


def workbooks() -> Workbooks:
    return Workbooks(PlanStore(get_clients().table(get_settings().tables.plan)))
