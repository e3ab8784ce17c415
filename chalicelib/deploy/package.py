"""``make package``: the deployable CloudFormation/SAM template for a stage, checked by cfn-lint.

Steps: render ``infra/`` for the stage → ``chalice package --merge-template`` into ``build/<stage>``
→ ``cfn-lint`` on the result (errors fail the build; warnings are printed) → each function's role
holds exactly its own policy file, pinned to the stack's region and account
(:mod:`chalicelib.deploy.iam`) → the bundle holds exactly the lock's packages and versions
(:mod:`chalicelib.deploy.bundle`) → report its size against Lambda's limit.

``chalice package`` pip-downloads ``requirements.txt``, the lock: every package pinned, every file
hash-checked. Offline, point pip at a wheelhouse (``PIP_NO_INDEX=1 PIP_FIND_LINKS=/path/to/wheels``)
downloaded from the same lock where an index is reachable; the hashes still apply, and jieba,
published only as an sdist, comes as its sdist and is built by ``chalice package``::

    pip download --require-hashes --no-deps -r requirements.txt -d wheels \
        --platform manylinux2014_x86_64 --python-version 3.11 --implementation cp

With neither an index nor a wheelhouse, ``--allow-offline`` packages without third-party
requirements so the template is still generated and linted, and says so.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from chalicelib.deploy.bundle import bundle_problems
from chalicelib.deploy.functions import FunctionSpec, function_specs
from chalicelib.deploy.iam import template_problems
from chalicelib.deploy.template import PROJECT_DIR, STAGES, render

# Lambda: 250 MB for the unzipped function code, layers included.
UNZIPPED_LIMIT = 250 * 1024 * 1024
CFN_LINT_ERROR_BIT = 2
_PROBE_PACKAGE = "requests==2.34.2"


def _bin(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


def index_reachable() -> bool:
    """True if pip can fetch requirements: a wheelhouse is configured or the index answers."""
    if os.environ.get("PIP_NO_INDEX") and os.environ.get("PIP_FIND_LINKS"):
        return True
    with tempfile.TemporaryDirectory() as tmp:
        probe = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--dest",
                tmp,
                "--timeout",
                "10",
                "--retries",
                "0",
                _PROBE_PACKAGE,
            ],
            capture_output=True,
            check=False,
        )
    return probe.returncode == 0


def _project_copy_without_requirements(tmp: Path) -> Path:
    copy = tmp / "project"
    copy.mkdir()
    for name in ("app.py", "chalicelib", ".chalice"):
        src = PROJECT_DIR / name
        if src.is_dir():
            shutil.copytree(
                src, copy / name, ignore=shutil.ignore_patterns("__pycache__", "deployments")
            )
        else:
            shutil.copy2(src, copy / name)
    (copy / "requirements.txt").write_text("", encoding="utf-8")
    return copy


# What a throttled client gets: our error shape (``ThrottledError``'s code) and when to retry,
# instead of API Gateway's bare ``{"message": "Too Many Requests"}``.
THROTTLED_BODY = json.dumps(
    {"error": "throttled", "message": "too many requests to the API; retry in a few seconds"}
)


def _specs(stage: str) -> list[FunctionSpec]:
    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))
    return function_specs(importlib.import_module("app").app, stage)


def merge_template(stage: str) -> dict[str, Any]:
    """``infra/`` rendered for ``stage``, plus each Chalice function's deployed name and the API
    stage's throttling.

    Chalice's SAM output leaves ``FunctionName`` unset, so CloudFormation would invent names;
    pinning ``yuqing-<stage>-<name>`` keeps them equal to local mode's and to what the code and
    the runbooks call them. Chalice has no setting for throttling: the stage's rate and burst
    (``ApiThrottleRate``, ``ApiThrottleBurst`` in ``infra/``) apply to every method, and the
    ``THROTTLED`` gateway response answers 429 in our error shape with ``Retry-After``. The merge
    deep-merges these partial resources into Chalice's.
    """
    template = render(stage)
    for spec in _specs(stage):
        template["Resources"][spec.logical_id] = {"Properties": {"FunctionName": spec.name}}
        if spec.logical_id == "APIHandler":
            template["Resources"]["RestAPI"] = {"Properties": api_throttling()}
    return template


def api_throttling() -> dict[str, Any]:
    """The ``AWS::Serverless::Api`` properties that throttle the API stage."""
    return {
        "MethodSettings": [
            {
                "ResourcePath": "/*",
                "HttpMethod": "*",
                "ThrottlingRateLimit": {"Ref": "ApiThrottleRate"},
                "ThrottlingBurstLimit": {"Ref": "ApiThrottleBurst"},
            }
        ],
        "DefinitionBody": {
            "x-amazon-apigateway-gateway-responses": {
                "THROTTLED": {
                    "statusCode": 429,
                    "responseParameters": {
                        "gatewayresponse.header.Retry-After": "'5'",
                        "gatewayresponse.header.Cache-Control": "'no-store'",
                    },
                    "responseTemplates": {"application/json": THROTTLED_BODY},
                }
            }
        },
    }


def unzipped_size(zip_path: Path) -> int:
    with zipfile.ZipFile(zip_path) as archive:
        return sum(info.file_size for info in archive.infolist())


def package(stage: str, out: Path, allow_offline: bool) -> int:
    out = out.resolve()
    if out.exists():
        if any(out.iterdir()) and not (out / "sam.json").exists():
            print(
                f"{out} is not empty and holds no earlier package; refusing to replace it",
                file=sys.stderr,
            )
            return 2
        shutil.rmtree(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    merge = out.parent / f"infra-{stage}.json"
    merge.write_text(
        json.dumps(merge_template(stage), ensure_ascii=False, indent=2), encoding="utf-8"
    )

    project_dir = PROJECT_DIR
    with tempfile.TemporaryDirectory() as tmp:
        if not index_reachable():
            if not allow_offline:
                print(
                    "no package index and no wheelhouse: set PIP_NO_INDEX=1 PIP_FIND_LINKS=<dir>, "
                    "or pass --allow-offline",
                    file=sys.stderr,
                )
                return 2
            print(
                "OFFLINE: no package index reachable — skipped downloading the Lambda "
                "requirements; the template is complete, the bundle lacks third-party packages."
            )
            project_dir = _project_copy_without_requirements(Path(tmp))
        # The template is region-agnostic; chalice only insists that some region is configured.
        env = {"AWS_DEFAULT_REGION": "us-east-1", **os.environ}
        packaged = subprocess.run(
            [
                _bin("chalice"),
                "--project-dir",
                str(project_dir),
                "package",
                "--stage",
                stage,
                "--merge-template",
                str(merge),
                str(out),
            ],
            check=False,
            env=env,
        )
        if packaged.returncode != 0:
            print("chalice package failed", file=sys.stderr)
            return 1
    template = out / "sam.json"
    lint = subprocess.run([_bin("cfn-lint"), str(template)], check=False)
    if lint.returncode & CFN_LINT_ERROR_BIT:
        print(f"cfn-lint found errors in {template}", file=sys.stderr)
        return 1
    built = json.loads(template.read_text(encoding="utf-8"))
    problems = template_problems(built, [(s.function, s.logical_id) for s in _specs(stage)])
    if problems:
        print(
            "IAM: the roles are not the functions' own least-privilege policies:", file=sys.stderr
        )
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    bundle = out / "deployment.zip"
    size = unzipped_size(bundle)
    print(f"template: {template} (cfn-lint: no errors; IAM: one pinned policy per function)")
    print(
        f"bundle: {bundle} {bundle.stat().st_size / 1e6:.1f} MB zipped, "
        f"{size / 1e6:.1f} MB unzipped (limit {UNZIPPED_LIMIT / 1e6:.0f} MB)"
    )
    if size > UNZIPPED_LIMIT:
        print("the Lambda bundle exceeds Lambda's unzipped size limit", file=sys.stderr)
        return 1
    if project_dir != PROJECT_DIR:
        print("OFFLINE: the bundle holds no third-party packages; not compared with the lock")
        return 0
    drift = bundle_problems(bundle)
    if drift:
        print("the bundle is not the lock (requirements.txt):", file=sys.stderr)
        for problem in drift:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print("bundle: exactly the packages and versions of requirements.txt")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stage", choices=[s for s in STAGES if s != "local"], default="dev")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--allow-offline", action="store_true")
    args = parser.parse_args(argv)
    return package(args.stage, args.out or PROJECT_DIR / "build" / args.stage, args.allow_offline)


if __name__ == "__main__":
    sys.exit(main())
