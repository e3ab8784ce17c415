"""Building the health service from settings and clients."""

from __future__ import annotations

from chalicelib.core.aws import get_clients
from chalicelib.core.settings import get_settings
from chalicelib.health.service import HealthService


def health_service() -> HealthService:
    return HealthService(get_settings(), get_clients())
