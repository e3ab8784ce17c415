"""The offline switch and the crawl queue name Chalice reads at import time."""

from __future__ import annotations

import pytest

from chalicelib.core.settings import Settings, crawl_queue_name
from tests.template_helpers import stage_environment


@pytest.mark.parametrize(
    ("value", "offline"), [("1", True), ("true", True), ("0", False), ("", False)]
)
def test_offline_switch(value: str, offline: bool) -> None:
    env = {**stage_environment("local"), "YUQING_OFFLINE": value}
    assert Settings.from_env(env).offline is offline


def test_offline_is_off_by_default_in_every_stage() -> None:
    for stage in ("local", "dev", "prod"):
        assert Settings.from_env(stage_environment(stage)).offline is False


def test_the_crawl_queue_name_follows_the_stage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRAWL_QUEUE", "yuqing-prod-crawl")
    assert crawl_queue_name() == "yuqing-prod-crawl"
    monkeypatch.delenv("CRAWL_QUEUE")
    assert crawl_queue_name() == "yuqing-local-crawl"
