"""``python -m chalicelib.local run|fire NAME`` — local embedded mode from the command line."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import boto3

from chalicelib.core.errors import ValidationError
from chalicelib.deploy.template import PROJECT_DIR


def _run(args: argparse.Namespace) -> int:
    from chalicelib.local.runtime import LocalOptions, LocalRuntime

    time_scale = os.environ.get("YUQING_TIME_SCALE")
    options = LocalOptions(
        state_dir=args.state_dir,
        api_port=int(os.environ.get("PORT", "8000")),
        moto_port=int(os.environ.get("YUQING_MOTO_PORT", "0")),
        time_scale=float(time_scale) if time_scale else None,
        run_schedules=not args.no_schedules,
        plan_file=args.plan,
        log_level=os.environ.get("POWERTOOLS_LOG_LEVEL") or None,
    )
    runtime = LocalRuntime(options)
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()
        # A second Ctrl-C while stopping ends the process at once.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        runtime.start()
    except OSError as err:  # a busy port, an unwritable state directory
        runtime.stop()
        print(f"local mode could not start: {err}", file=sys.stderr)
        return 1
    except ValidationError as err:  # --plan names a file that is not a valid plan
        runtime.stop()
        print(f"local mode could not start: {err.message}", file=sys.stderr)
        for found in err.problems:
            print(f"  {found.path or '/'}: {found.message}", file=sys.stderr)
        return 2
    except BaseException:
        runtime.stop()
        raise
    print(
        "\nyuqing local mode is up\n"
        f"  dashboard (HQ)      {runtime.dashboard_url()}\n"
        f"  API                 {runtime.api_url}\n"
        f"  health              {runtime.api_url}/health\n"
        f"  AWS endpoint (moto) {runtime.endpoint_url}\n"
        f"  tokens and URLs     {runtime.local_json}\n"
        f"  AWS CLI             AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local "
        f"aws --region us-east-1 --endpoint-url {runtime.endpoint_url} dynamodb list-tables\n"
        f"  fire a schedule     make fire NAME=health_probe\n"
        f"Ctrl-C stops and saves the tables under {args.state_dir / 'state'}.\n",
        flush=True,
    )
    for problem in runtime.functions.unsupported if runtime.functions else []:
        print(f"  not run locally: {problem}", flush=True)
    # Wake up now and then: Python runs a signal handler only when the main thread runs
    # Python code again, and a process-wide signal may be delivered to any thread. A plain
    # wait() was seen to sleep through a SIGTERM for minutes with dozens of workflow threads.
    while not stopping.wait(0.5):
        pass
    print("stopping: saving tables…", flush=True)
    runtime.stop()
    print("stopped", flush=True)
    return 0


def _fire(args: argparse.Namespace) -> int:
    from chalicelib.local.scheduler import invoke_scheduled

    info = json.loads((args.state_dir / "local.json").read_text(encoding="utf-8"))
    session = boto3.session.Session(
        aws_access_key_id=info["aws_env"]["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=info["aws_env"]["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=info["aws_env"].get("AWS_SESSION_TOKEN"),
        region_name=info["region"],
    )
    endpoint = info["aws_endpoint_url"]
    name = args.name if args.name.startswith("yuqing-") else f"yuqing-{info['stage']}-{args.name}"
    result = invoke_scheduled(
        session.client("lambda", endpoint_url=endpoint), name, info["account"], info["region"]
    )
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 1 if result["error"] else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.local", description=__doc__)
    parser.add_argument("--state-dir", type=Path, default=PROJECT_DIR / ".yuqing")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="start local mode (PORT picks the API port)")
    run.add_argument("--no-schedules", action="store_true", help="do not fire schedules")
    run.add_argument(
        "--plan",
        type=Path,
        help="on the first start, store this plan instead of examples/plan.json",
    )
    run.set_defaults(func=_run)
    fire = commands.add_parser("fire", help="invoke one scheduled function now")
    fire.add_argument("name", help="schedule name, e.g. health_probe")
    fire.set_defaults(func=_fire)
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    code = main()
    # Everything is saved and the state directory unlocked by now. Tearing the interpreter
    # down would free moto's whole in-memory world (every item, execution and deep-copied state
    # machine) object by object — seconds on a busy machine, for nothing: leave at once.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
