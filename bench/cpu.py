"""A CPU reference printed beside latency figures, so figures from different machines compare.

Latency measured on this shared 2-core machine varies with whatever else runs on it, and the
README's figures were taken on a machine that may be faster or slower. Every benchmark that
prints a latency also prints how fast plain ``jieba.lcut`` segments the SMP2020 evaluation posts
in the same run, the figure ``bench.scoring`` prints too (the README's run: 12,000 posts/s on an
idle machine, 2026-11-25). A latency divided by the README's reference over this one is that
latency "at README speed". Without the data (it is never committed) a fixed synthetic corpus is
segmented instead, and the answer says so: its rate does not compare with the README's.

Run alone: ``.venv/bin/python -m bench.cpu [--data ../shared/data/smp2020-ewect]``.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
_SHARED = Path("shared") / "data" / "smp2020-ewect"


def _default_data() -> Path:
    """``../shared/data/smp2020-ewect`` beside the checkout — or, in a git worktree kept
    elsewhere, beside the main checkout (the worktree's parent has no ``shared``)."""
    here = PROJECT.parent / _SHARED
    if here.is_dir():
        return here
    common = PROJECT / ".git"
    if common.is_file():  # a worktree: "gitdir: <main>/.git/worktrees/<name>"
        gitdir = Path(common.read_text(encoding="utf-8").split(":", 1)[1].strip())
        main = gitdir.parents[2] if gitdir.parent.name == "worktrees" else None
        if main is not None and (main.parent / _SHARED).is_dir():
            return main.parent / _SHARED
    return here


DATA = _default_data()
README_RATE = 12_000.0  # plain jieba.lcut posts/s in the README's bench.scoring run

_SYLLABLES = "医院门诊患者家属投诉收费排队医生护士态度延误事故伤亡网传视频曝光回应调查处理通报"


@dataclass(frozen=True)
class Reference:
    """Plain ``jieba.lcut`` speed in this run; ``comparable`` when measured on the SMP2020
    posts, as the README's figure was."""

    posts_per_second: float
    comparable: bool

    def at_readme_speed(self, seconds: float) -> float | None:
        """``seconds`` scaled to the README's machine, or None when the rate does not compare."""
        if not self.comparable:
            return None
        return seconds * self.posts_per_second / README_RATE

    def line(self) -> str:
        if self.comparable:
            return (
                f"CPU reference: plain jieba.lcut {self.posts_per_second:,.0f} posts/s on the "
                f"SMP2020 eval posts (README's machine: {README_RATE:,.0f}; "
                f"{self.posts_per_second / README_RATE:.2f}× its speed)"
            )
        return (
            f"CPU reference: plain jieba.lcut {self.posts_per_second:,.0f} posts/s on a synthetic "
            f"corpus (no SMP2020 data at {DATA}: not comparable with the README's figure)"
        )


def _texts(data: Path) -> tuple[list[str], bool]:
    names = ("virus_eval_labeled.txt", "usual_eval_labeled.txt")
    if all((data / name).is_file() for name in names):
        rows = [row for name in names for row in json.loads((data / name).read_text("utf-8"))]
        return [str(row["content"]) for row in rows], True
    rng = random.Random(3)
    return ["".join(rng.choices(_SYLLABLES, k=60)) for _ in range(4000)], False


def reference(data: Path = DATA, passes: int = 3) -> Reference:
    """The best of ``passes`` passes of plain ``jieba.lcut`` over the posts (the dictionary is
    loaded before the first pass is timed)."""
    import jieba

    jieba.setLogLevel(60)
    texts, comparable = _texts(data)
    jieba.lcut(texts[0])
    best = 0.0
    for _ in range(passes):
        started = time.perf_counter()
        for text in texts:
            jieba.lcut(text)
        best = max(best, len(texts) / (time.perf_counter() - started))
    return Reference(best, comparable)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DATA)
    print(reference(parser.parse_args().data).line())


if __name__ == "__main__":
    main()
