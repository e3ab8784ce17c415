"""The end-to-end tests' local mode: started by the test, killed if a test left it running."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.local_mode import LocalMode, free_port


@pytest.fixture
def local_mode(tmp_path: Path) -> Iterator[LocalMode]:
    mode = LocalMode(tmp_path / "yuqing", free_port())
    yield mode
    if mode.process and mode.process.poll() is None:
        mode.process.kill()
