"""Accuracy and macro-F1 of negative-vs-rest sentiment on a labelled file, SnowNLP beside it.

The file is in the SMP2020-EWECT format (one JSON array of ``{"id", "content", "label"}``);
negative means ``angry``, ``sad`` or ``fear``. Read by path, never copied into the project::

    .venv/bin/python -m bench.eval_sentiment --data \
        ../shared/data/smp2020-ewect/usual_eval_labeled.txt

``--model FILE`` scores with another weights file (e.g. one trained by ``bench.train_sentiment
--train virus_train.txt --out FILE``). The model's ``#trained`` header is printed: a file it was
trained on is not an evaluation (the shipped model is trained on ``usual_eval_labeled.txt`` too);
the unseen-post figure for such a file is ``bench.train_sentiment --cv`` (per-file 5-fold).

SnowNLP (trained on shopping reviews) calls a post negative when its positive probability is
below 0.5; it is skipped with a note when not installed.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.train_sentiment import load
from chalicelib.scoring.segment import default_segmenter
from chalicelib.scoring.sentiment import (
    MODEL_FILE,
    SentimentScorer,
    load_lexicon,
    load_model,
    model_header,
)


def metrics(truth: Sequence[bool], predicted: Sequence[bool]) -> tuple[float, float]:
    """(accuracy, macro-F1 over the two classes)."""
    tp = sum(1 for t, p in zip(truth, predicted, strict=True) if t and p)
    tn = sum(1 for t, p in zip(truth, predicted, strict=True) if not t and not p)
    fp = sum(1 for t, p in zip(truth, predicted, strict=True) if not t and p)
    fn = len(truth) - tp - tn - fp

    def f1(hits: int, false_alarms: int, misses: int) -> float:
        return 2 * hits / (2 * hits + false_alarms + misses) if hits else 0.0

    return (tp + tn) / len(truth), (f1(tp, fp, fn) + f1(tn, fn, fp)) / 2


def run(
    name: str, truth: Sequence[bool], texts: Sequence[str], judge: Callable[[str], bool]
) -> None:
    started = time.perf_counter()
    predicted = [judge(text) for text in texts]
    elapsed = time.perf_counter() - started
    accuracy, macro_f1 = metrics(truth, predicted)
    print(
        f"{name:<22} accuracy {accuracy:.4f}  macro-F1 {macro_f1:.4f}  "
        f"({len(texts) / elapsed:,.0f} posts/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="a labelled file")
    parser.add_argument("--model", type=Path, default=MODEL_FILE, help="a weights file")
    args = parser.parse_args()
    rows = load(args.data)
    texts = [text for text, _ in rows]
    truth = [label for _, label in rows]
    print(f"{args.data.name}: {len(rows)} posts, {sum(truth)} negative (angry, sad, fear)")
    trained = model_header(args.model).get("trained", "?")
    print(f"model {args.model.name}, trained on: {trained}")
    if args.data.name in trained:
        print(
            f"  NOTE: the model was trained on {args.data.name}: not an evaluation "
            "(its unseen-post figure: bench.train_sentiment --cv)"
        )
    scorer = SentimentScorer(load_model(args.model), load_lexicon(), default_segmenter().cut)
    run("yuqing model", truth, texts, lambda text: scorer.score(text).negative)
    run("yuqing lexicon only", truth, texts, lambda text: scorer.score(text).lexicon.score < 0)
    try:
        from snownlp import SnowNLP  # type: ignore[import-untyped]
    except ImportError:
        print("SnowNLP               not installed (pip install snownlp==0.12.3)")
        return
    run("SnowNLP", truth, texts, lambda text: SnowNLP(text).sentiments < 0.5)


if __name__ == "__main__":
    main()
