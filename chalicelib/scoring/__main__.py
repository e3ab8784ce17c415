"""Command line: score JSON lines from stdin, one JSON line out per post.

    .venv/bin/python -m chalicelib.scoring [--plan FILE] < posts.jsonl

Input lines: ``{"id": …, "text": …}`` with optional ``title``, ``platform``, ``engagement``
(counters such as ``reposts``), ``rank`` and ``credibility``. Output lines: ``id``,
``sentiment`` (−1…1, below 0 is a negative opinion), ``negative``, ``risk`` (0…1), ``level``
(null or "I"…"IV"), ``subjects``, ``crisis_words``, ``components`` and ``reasons``. A line
that is not a valid post gets ``{"id": …, "error": "…"}`` and the rest go on; the exit
status is 1 if any line failed. Each post is scored alone (cluster size 1, no growth).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from chalicelib.core.errors import ValidationError
from chalicelib.plan.defaults import default_plan
from chalicelib.scoring.risk import Spread
from chalicelib.scoring.scorer import Scorer, scorer_for_plan


def _engagement(value: Any) -> dict[str, int]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError("engagement must be an object of counters")
    out: dict[str, int] = {}
    for key, count in value.items():
        if isinstance(count, bool) or not isinstance(count, int | float) or count < 0:
            raise ValueError(f"engagement.{key} must be a non-negative number")
        out[str(key)] = int(count)
    return out


def score_line(scorer: Scorer, line: str) -> dict[str, Any]:
    try:
        post = json.loads(line)
    except json.JSONDecodeError as err:
        return {"id": None, "error": f"not JSON: {err.msg} at column {err.colno}"}
    if not isinstance(post, dict):
        return {"id": None, "error": "each line must be a JSON object"}
    post_id = post.get("id")
    try:
        text = post.get("text", "")
        title = post.get("title") or ""
        if not isinstance(text, str) or not isinstance(title, str):
            raise ValueError("text and title must be strings")
        if not text and not title:
            raise ValueError("text (or title) is required")
        rank = post.get("rank")
        if rank is not None and (isinstance(rank, bool) or not isinstance(rank, int)):
            raise ValueError("rank must be an integer")
        credibility = post.get("credibility", 0.5)
        if isinstance(credibility, bool) or not isinstance(credibility, int | float):
            raise ValueError("credibility must be a number")
        spread = Spread(
            engagement=_engagement(post.get("engagement")),
            rank=rank,
            credibility=float(credibility),
        )
    except ValueError as err:
        return {"id": post_id, "error": str(err)}
    content = f"{title}\n{text}" if title and text and not text.startswith(title) else text or title
    result: dict[str, Any] = {"id": post_id}
    if "platform" in post:
        result["platform"] = post["platform"]
    result.update(scorer.score(content, spread).as_dict())
    return result


def run(lines: Iterable[str], scorer: Scorer, out: TextIO) -> int:
    failed = 0
    for line in _nonblank(lines):
        result = score_line(scorer, line)
        failed += "error" in result
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
    return 1 if failed else 0


def _nonblank(lines: Iterable[str]) -> Iterator[str]:
    for line in lines:
        if line.strip():
            yield line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m chalicelib.scoring", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--plan", type=Path, help="a plan document (JSON); default: the example")
    args = parser.parse_args(argv)
    if args.plan:
        try:
            plan = json.loads(args.plan.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            print(f"cannot read the plan {args.plan}: {err}", file=sys.stderr)
            return 2
    else:
        plan = default_plan()
    try:
        scorer = scorer_for_plan(plan)
    except ValidationError as err:
        for problem in err.problems:
            print(f"plan {problem.path}: {problem.message}", file=sys.stderr)
        return 2
    return run(sys.stdin, scorer, sys.stdout)


if __name__ == "__main__":
    sys.exit(main())
