"""Settings are parsed once from an environment mapping; every problem is reported up front."""

from __future__ import annotations

import pytest

from chalicelib.core.errors import ConfigError
from chalicelib.core.settings import TABLE_ENV, Settings, get_settings, reset_settings
from tests.template_helpers import stage_environment

REQUIRED = [
    "YUQING_STAGE",
    *TABLE_ENV.values(),
    "CRAWL_QUEUE",
    "CRAWL_DLQ",
    "HQ_TOPIC",
    "OPS_TOPIC",
    "RESPONSE_STATE_MACHINE",
]


@pytest.fixture
def local_env() -> dict[str, str]:
    return {**stage_environment("local"), "AWS_DEFAULT_REGION": "eu-west-1"}


def test_from_env_reads_the_local_stage(local_env: dict[str, str]) -> None:
    # GIVEN the environment Chalice gives the local stage
    # WHEN settings are built from it
    settings = Settings.from_env(local_env)

    # THEN every name, the time scale and local mode come through
    assert settings.stage == "local"
    assert settings.region == "eu-west-1"
    assert settings.tables.plan == "yuqing-local-plan"
    assert settings.tables.system == "yuqing-local-system"
    assert settings.crawl_queue == "yuqing-local-crawl"
    assert settings.crawl_dlq == "yuqing-local-crawl-dlq"
    assert settings.hq_topic == "yuqing-local-hq"
    assert settings.ops_topic == "yuqing-local-ops"
    assert settings.state_machine == "yuqing-local-response"
    assert settings.time_scale == pytest.approx(0.01)
    assert settings.local_mode is True
    assert settings.endpoint_url is None


def test_from_env_prefers_aws_region_and_reads_the_endpoint(local_env: dict[str, str]) -> None:
    # GIVEN AWS_REGION (set by Lambda) and an endpoint URL (local mode)
    env = {**local_env, "AWS_REGION": "ap-east-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:5000"}

    # WHEN settings are built
    settings = Settings.from_env(env)

    # THEN AWS_REGION wins over AWS_DEFAULT_REGION and the endpoint is kept
    assert settings.region == "ap-east-1"
    assert settings.endpoint_url == "http://127.0.0.1:5000"


def test_from_env_defaults_outside_local_mode() -> None:
    # GIVEN the dev stage's environment, which sets no time scale and no local flag
    env = stage_environment("dev")

    # WHEN settings are built
    settings = Settings.from_env(env)

    # THEN waits are real and local mode is off
    assert settings.time_scale == 1.0
    assert settings.local_mode is False
    assert settings.region == "us-east-1"


def test_every_missing_variable_is_reported_at_once() -> None:
    # GIVEN an empty environment
    # WHEN settings are built
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({})

    # THEN one error names every required variable
    for name in REQUIRED:
        assert name in raised.value.message


def test_missing_and_empty_variables_are_both_reported(local_env: dict[str, str]) -> None:
    # GIVEN one variable absent and one empty
    env = {**local_env, "HQ_TOPIC": ""}
    del env["POSTS_TABLE"]

    # WHEN settings are built
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(env)

    # THEN exactly those two are named
    assert raised.value.message == "missing environment variables: POSTS_TABLE, HQ_TOPIC"


@pytest.mark.parametrize("scale", ["fast", "", "0", "-1", "1.5", "nan"])
def test_a_bad_time_scale_is_a_config_error(local_env: dict[str, str], scale: str) -> None:
    # GIVEN a time scale that is not a number in (0, 1]
    env = {**local_env, "YUQING_TIME_SCALE": scale}

    # WHEN settings are built THEN the process refuses to start
    with pytest.raises(ConfigError, match="YUQING_TIME_SCALE"):
        Settings.from_env(env)


def test_get_settings_is_cached_until_reset(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the local stage's environment
    for name, value in stage_environment("local").items():
        monkeypatch.setenv(name, value)
    reset_settings()
    try:
        first = get_settings()

        # WHEN the environment changes without a reset THEN the cached settings stay
        monkeypatch.setenv("YUQING_STAGE", "changed")
        assert get_settings() is first

        # WHEN settings are reset THEN the new environment is read
        reset_settings()
        assert get_settings().stage == "changed"
    finally:
        reset_settings()
