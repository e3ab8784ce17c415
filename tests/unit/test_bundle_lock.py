"""The Lambda bundle is locked, and what the tests import is what the lock ships.

The crawler's SSRF guard relies on urllib3's connection internals (``chalicelib/sources/
fetcher.py``); with only top-level pins, ``chalice package`` resolved urllib3 ``>=1.26,<3`` to
whatever was newest that day, and the guard's tests proved nothing about it. requirements.txt is
now the lock: every package of the bundle at one version with the hashes of its files, read by
``chalice package`` and installed first by ``make setup``.
"""

from __future__ import annotations

import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from chalicelib.deploy.bundle import (
    bundle_problems,
    canonical,
    locked,
    locked_with_hashes,
)
from chalicelib.deploy.template import PROJECT_DIR

LOCKED = locked()


def test_the_lock_pins_the_guards_urllib3_and_every_package_with_hashes() -> None:
    assert "urllib3" in LOCKED
    for name, (version, hashes) in locked_with_hashes().items():
        assert version, name
        assert hashes, f"{name} has no hash"


@pytest.mark.parametrize("name", sorted(LOCKED))
def test_the_installed_version_is_the_locked_one(name: str) -> None:
    # What the tests run (urllib3 under the guard's tests included) is what Lambda runs.
    assert metadata.version(name) == LOCKED[name]


def test_the_lock_holds_requirements_in_at_the_same_versions() -> None:
    for line in (PROJECT_DIR / "requirements.in").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        requirement = Requirement(line)
        name = canonical(requirement.name)
        assert name in LOCKED, f"{name} is in requirements.in but not locked: run make lock"
        assert requirement.specifier.contains(LOCKED[name]), f"{name}: run make lock"


def test_the_lock_is_closed_under_the_bundles_dependencies() -> None:
    # Every dependency a locked package declares (for Lambda's Python, with the extras the lock
    # asks for) is locked too: nothing in the bundle is resolved at packaging time.
    extras = {
        canonical(r.name): r.extras
        for r in map(Requirement, _requirement_lines(PROJECT_DIR / "requirements.in"))
    }
    missing = set()
    for name in LOCKED:
        for text in metadata.requires(name) or []:
            requirement = Requirement(text)
            wanted = extras.get(name, set()) | {""}
            marker = requirement.marker
            if marker and not any(marker.evaluate({"extra": extra}) for extra in wanted):
                continue
            if canonical(requirement.name) not in LOCKED:
                missing.add(f"{requirement.name} (for {name})")
    assert missing == set()


def _requirement_lines(path: Path) -> list[str]:
    return [
        line
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]


def _bundle(tmp_path: Path, packages: dict[str, str]) -> Path:
    """A deployment.zip shaped as chalice package writes it, with these distributions."""
    path = tmp_path / "deployment.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("app.py", "")
        for name, version in packages.items():
            folder = f"{name.replace('-', '_')}-{version}.dist-info"
            archive.writestr(
                f"{folder}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
            )
    return path


def test_a_bundle_of_exactly_the_locked_set_passes(tmp_path: Path) -> None:
    assert bundle_problems(_bundle(tmp_path, LOCKED)) == []


def test_a_bundle_that_differs_from_the_lock_is_named(tmp_path: Path) -> None:
    drifted = {**LOCKED, "urllib3": "1.26.20", "extra-package": "1.0"}
    del drifted["six"]
    problems = bundle_problems(_bundle(tmp_path, drifted))
    assert problems == [
        f"six: locked {LOCKED['six']}, not in the bundle",
        "extra-package 1.0: in the bundle, not in the lock",
        f"urllib3: locked {LOCKED['urllib3']}, bundled 1.26.20",
    ]
