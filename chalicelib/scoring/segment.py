"""Word segmentation (分词) with jieba's model and dictionary, and the plan's names kept whole.

The engine is rjieba, the Rust port of jieba (same dictionary and algorithm): it loads in
≈ 60 ms where ``jieba.initialize()`` takes ≈ 0.7 s, and cuts ≈ 25× faster.
``bench/scoring.py`` measures how often its output equals ``jieba.lcut`` and how often the
sentiment built on it agrees. If rjieba is not installed, jieba itself is used, with its
cache file in ``/tmp`` (the only writable place in Lambda).

The user dictionary is the plan's subject names and terms (:meth:`Segmenter.add_terms`): an
organisation's full name or a place stays one word, so lexicon look-ups do not read a name
like 张家好医院 as containing 好. rjieba has no file loader, so terms are added one by one;
added words are process-wide and stay for the life of the process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

# Frequency given to user terms: high enough to beat the dictionary's own splits.
TERM_FREQUENCY = 100_000
JIEBA_CACHE = "/tmp/yuqing-jieba.cache"  # noqa: S108 - Lambda can only write /tmp


class Segmenter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cut: Callable[[str], list[str]] | None = None
        self._add: Callable[[str], Any] | None = None
        self._terms: set[str] = set()
        self.engine = ""

    def _load(self) -> Callable[[str], list[str]]:
        with self._lock:
            if self._cut is None:
                try:
                    import rjieba
                except ImportError:  # pragma: no cover - rjieba is in requirements.txt
                    import jieba

                    jieba.dt.cache_file = JIEBA_CACHE
                    jieba.setLogLevel(60)
                    self._cut = jieba.lcut
                    self._add = lambda word: jieba.add_word(word, freq=TERM_FREQUENCY)
                    self.engine = "jieba"
                else:
                    self._cut = rjieba.cut
                    self._add = lambda word: rjieba.add_word(word, TERM_FREQUENCY, None)
                    self.engine = "rjieba"
            return self._cut

    def cut(self, text: str) -> list[str]:
        return self._load()(text)

    def add_terms(self, terms: Iterable[str]) -> None:
        """Keep these names whole (plan subjects' names and terms)."""
        self._load()
        new = [t for t in terms if t and t not in self._terms]
        with self._lock:
            for term in new:
                assert self._add is not None
                self._add(term)
                self._terms.add(term)


_default = Segmenter()


def default_segmenter() -> Segmenter:
    return _default
