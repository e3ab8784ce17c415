"""Hot words (热词): the words whose use rises most against the previous days.

Pure, no I/O. Counting happens at ingest: each new post contributes the distinct words of its
text once (a post repeating a word fifty times is one post using it), per 10 minutes of a UTC
hour, overall and per subject it matched. A batch adds only its :data:`BATCH_TOP` most used
words to each item, so an item's stored vocabulary stays bounded however much text flows through
it — a word that matters is among the most used of the batches it rises in; a word used once per
batch in scattered posts is not a hot word. Ten minutes, not an hour, because DynamoDB bills an
update by the item's whole size: a small item keeps the cost per post low (decision 82).

A word's rise compares its share of the period's posts with its share of the baseline's posts:
``expected = baseline_count × posts / baseline_posts`` is how many of the period's posts would
have used it had nothing changed, and ``rise = (count + 1) / (expected + 1)``. Shares, not
counts, so a busy day does not make every word "hot"; add-one, so a word new today ranks by how
often it is used, not by a division by zero. A word needs :data:`MIN_COUNT` posts to be listed.

The words are jieba's (the scorer's segmenter, with the plan's names added whole, so
滨江第一人民医院 is one word); stop words, single characters, numbers and the platforms'
boilerplate (转发, 网页链接, 展开全文…) are left out.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from chalicelib.scoring.text import for_sentiment

# The most used words of one batch added per (hour, key): bounds an hour item's size.
BATCH_TOP = 20
# The key of the counts over all posts (subject ids are slugs: no clash).
ALL = "*"
MIN_COUNT = 3
MAX_WORD_CHARS = 20
# A word is kept if it has two or more characters and a letter of some script in it.
_WORDLIKE = re.compile(r"[^\W\d_]", re.UNICODE)
_URLISH = re.compile(r"(?i)^(https?|www|com|cn|html?)$")

# Function words and the platforms' boilerplate (stopwords.txt): frequent everywhere, hot nowhere.
STOP_WORDS = frozenset(
    word
    for line in (Path(__file__).parent / "stopwords.txt").read_text(encoding="utf-8").splitlines()
    if not line.startswith("#")
    for word in line.split()
)


def keep(word: str) -> bool:
    """Whether a segmented word can be a hot word."""
    word = word.strip()
    return (
        1 < len(word) <= MAX_WORD_CHARS
        and word not in STOP_WORDS
        and _WORDLIKE.search(word) is not None
        and not _URLISH.match(word)
    )


def post_words(text: str, cut: Callable[[str], Iterable[str]]) -> frozenset[str]:
    """The distinct words of one post that can be hot words (links, user names and emoji codes
    out first, as the sentiment reads it; hashtags stay: their words are often the story's)."""
    return frozenset(w.strip() for w in cut(for_sentiment(text)) if keep(w))


@dataclass(frozen=True)
class Worded:
    """One new, non-drill post as the word counts see it."""

    seen_at: str  # ISO-8601 UTC
    subjects: tuple[str, ...]
    words: frozenset[str]


@dataclass
class WordCounts:
    """Posts first stored in one tenth of a UTC hour (overall, or of one subject) and their
    words."""

    day: str  # UTC YYYY-MM-DD
    hour: int  # 0-23
    key: str  # ALL or a subject id
    posts: int = 0
    words: Counter[str] = field(default_factory=Counter)
    slot: int = 0  # which 10 minutes of the hour (0-5)


def word_counts(posts: Iterable[Worded], top: int = BATCH_TOP) -> list[WordCounts]:
    """A batch's posts grouped by (10 minutes of a UTC hour, key), each group's ``top`` words:
    one stored update per group. Ties are broken by the word, so a batch always adds the same
    words."""
    groups: dict[tuple[str, int, int, str], WordCounts] = {}
    for post in posts:
        day, hour, slot = post.seen_at[:10], int(post.seen_at[11:13]), int(post.seen_at[14]) % 6
        for key in (ALL, *post.subjects):
            counts = groups.setdefault(
                (day, hour, slot, key), WordCounts(day, hour, key, slot=slot)
            )
            counts.posts += 1
            counts.words.update(post.words)
    for counts in groups.values():
        ranked = sorted(counts.words.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        counts.words = Counter(dict(ranked))
    return sorted(groups.values(), key=lambda c: (c.day, c.hour, c.slot, c.key))


@dataclass(frozen=True)
class HotWord:
    word: str
    count: int  # posts in the period using it
    expected: float  # posts expected to use it at the baseline's share
    rise: float  # (count + 1) / (expected + 1)
    new: bool  # not used at all in the baseline

    def as_dict(self) -> dict[str, object]:
        return {
            "word": self.word,
            "count": self.count,
            "expected": round(self.expected, 2),
            "rise": round(self.rise, 2),
            "new": self.new,
        }


def total(counts: Iterable[WordCounts]) -> tuple[int, Counter[str]]:
    """Posts and word uses summed over hour items."""
    posts, words = 0, Counter[str]()
    for c in counts:
        posts += c.posts
        words.update(c.words)
    return posts, words


def hot_words(
    posts: int,
    words: Mapping[str, int],
    baseline_posts: int,
    baseline: Mapping[str, int],
    *,
    limit: int = 20,
    min_count: int = MIN_COUNT,
) -> list[HotWord]:
    """The period's rising words (used by more posts than the baseline's share expects), ranked
    by their rise (then by count, then by the word, so equal figures always list in one order)."""
    ranked = []
    for word, count in words.items():
        if count < min_count:
            continue
        before = baseline.get(word, 0)
        expected = before * posts / baseline_posts if baseline_posts else 0.0
        if count <= expected:
            continue
        ranked.append(HotWord(word, count, expected, (count + 1) / (expected + 1), before == 0))
    ranked.sort(key=lambda h: (-h.rise, -h.count, h.word))
    return ranked[:limit]
