"""The Lambda bundle is exactly the lock: requirements.txt's packages at its versions, no other.

``requirements.in`` names the bundle's direct dependencies; ``make lock`` (pip-tools) resolves
them into ``requirements.txt`` with every transitive dependency pinned to one version and the
hashes of its files. ``chalice package`` reads ``requirements.txt``, so pip downloads in
hash-checking mode and nothing unpinned can slip in — urllib3, whose internals the crawler's SSRF
guard relies on (``chalicelib/sources/transport.py``), is no longer whatever ``>=1.26,<3`` resolves
to that day. ``make setup`` installs the same lock first, so the tests run what Lambda runs.

:func:`bundle_problems` checks the result: the distributions in ``deployment.zip`` (their
``*.dist-info/METADATA``) are the lock's names and versions, no more and no less.
"""

from __future__ import annotations

import re
import zipfile
from email.parser import HeaderParser
from pathlib import Path

from chalicelib.deploy.template import PROJECT_DIR

LOCK = PROJECT_DIR / "requirements.txt"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")
_HASH = re.compile(r"--hash=(sha256:[0-9a-f]{64})")
_METADATA = re.compile(r"^([^/]+)\.dist-info/METADATA$")


def canonical(name: str) -> str:
    """A distribution name as packaging compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def locked(path: Path = LOCK) -> dict[str, str]:
    """Distribution → version, for every package the lock pins."""
    return {name: version for name, (version, _) in locked_with_hashes(path).items()}


def locked_with_hashes(path: Path = LOCK) -> dict[str, tuple[str, list[str]]]:
    """Distribution → (version, the hashes of its files), as the lock has them."""
    found: dict[str, tuple[str, list[str]]] = {}
    current: str | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        pin = _PIN.match(line)
        if pin:
            current = canonical(pin.group(1))
            found[current] = (pin.group(2), [])
        elif current is not None:
            found[current][1].extend(_HASH.findall(line))
    return found


def bundled(zip_path: Path) -> dict[str, str]:
    """Distribution → version, for every distribution vendored into ``deployment.zip``."""
    found: dict[str, str] = {}
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            if not _METADATA.match(info.filename):
                continue
            headers = HeaderParser().parsestr(archive.read(info).decode("utf-8", "replace"))
            found[canonical(str(headers["Name"]))] = str(headers["Version"])
    return found


def bundle_problems(zip_path: Path, lock: Path = LOCK) -> list[str]:
    """How the bundle differs from the lock: packages missing, extra, or at another version."""
    want, have = locked(lock), bundled(zip_path)
    problems = [
        f"{name}: locked {want[name]}, not in the bundle" for name in sorted(set(want) - set(have))
    ]
    problems += [
        f"{name} {have[name]}: in the bundle, not in the lock"
        for name in sorted(set(have) - set(want))
    ]
    problems += [
        f"{name}: locked {want[name]}, bundled {have[name]}"
        for name in sorted(set(want) & set(have))
        if want[name] != have[name]
    ]
    return problems
