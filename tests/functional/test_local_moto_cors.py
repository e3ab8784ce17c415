"""moto's server in local mode answers no web page: its global CORS is off (decision 68).

The switch reaches into moto (it reads ``MOTO_DISABLE_GLOBAL_CORS`` only at import), so this test
fails if a moto upgrade moves it, as the Lambda hook's test does for that hook.
"""

from __future__ import annotations

import os

import pytest
import requests
from moto.moto_server import werkzeug_app
from moto.server import ThreadedMotoServer

from chalicelib.local.moto_cors import ENV, disable_global_cors

EVIL = "http://evil.example"


def _allowed_origin() -> str | None:
    """What a fresh moto server says to a page from another origin asking for every table."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        answer = requests.get(
            f"http://{host}:{port}/moto-api/data.json", headers={"Origin": EVIL}, timeout=30
        )
        assert answer.status_code == 200
        return answer.headers.get("Access-Control-Allow-Origin")
    finally:
        server.stop()


def test_moto_started_after_the_switch_gives_no_web_page_its_tables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN moto as it comes: any page may read it (the test would prove nothing otherwise)
    monkeypatch.setattr(werkzeug_app, "DISABLE_GLOBAL_CORS", False)
    monkeypatch.setenv(ENV, "")  # unset for moto (any non-empty value is on); restored after
    assert _allowed_origin() == EVIL
    # WHEN local mode's switch is thrown (after moto was imported, as in local mode)
    disable_global_cors()
    # THEN a server started afterwards allows no other origin, and processes it starts inherit it
    assert _allowed_origin() is None
    assert os.environ[ENV]
