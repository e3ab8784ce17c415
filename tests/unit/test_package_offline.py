"""``make package`` with no index and no wheelhouse (``--allow-offline``): the project copy it
packages holds the app, its code and its configuration, and no Lambda requirements."""

from __future__ import annotations

from pathlib import Path

from chalicelib.deploy.package import _project_copy_without_requirements
from chalicelib.deploy.template import PROJECT_DIR


def test_the_offline_copy_has_the_app_and_its_policies_and_no_requirements(tmp_path: Path) -> None:
    copy = _project_copy_without_requirements(tmp_path)
    assert (copy / "app.py").read_bytes() == (PROJECT_DIR / "app.py").read_bytes()
    assert (copy / "chalicelib" / "deploy" / "package.py").exists()
    assert (copy / ".chalice" / "config.json").exists()
    assert sorted(p.name for p in (copy / ".chalice" / "policies").iterdir()) == sorted(
        p.name for p in (PROJECT_DIR / ".chalice" / "policies").iterdir()
    )
    assert (copy / "requirements.txt").read_text(encoding="utf-8") == ""
    assert not list(copy.rglob("__pycache__"))
