"""MinHash signatures and LSH bands over character shingles: is this post the same story?

Reposts, quote chains and light rewrites of one story share most of their character
3-grams once the chains, hashtags, links and emoji codes are gone
(:func:`chalicelib.scoring.text.story_text`). MinHash estimates the Jaccard similarity of two
shingle sets from :data:`PERMUTATIONS` minimum hash values; LSH cuts the signature into
:data:`BANDS` bands of :data:`ROWS` values, and two posts become candidates when any band is
equal — with 6 × 3 the chance is 50 % at Jaccard ≈ 0.55 and 99 % at 0.85. Candidates are then
confirmed on the estimated similarity (:data:`JOIN_SIMILARITY`).

Pure Python: the shingles are hashed once with CRC-32 (stable across processes, unlike
``hash()``), then each of the 18 universal hash functions ``(a·x + b) mod p`` is applied.
``bench/scoring.py`` measures the speed; at a few tens of microseconds per post this costs
less than the sentiment model, and needs neither NumPy nor a compiled extension in Lambda.
"""

from __future__ import annotations

import hashlib
import random
import zlib

SHINGLE = 3
BANDS = 6
ROWS = 3
PERMUTATIONS = BANDS * ROWS
JOIN_SIMILARITY = 0.5
_PRIME = (1 << 61) - 1
# Fixed seed: every worker must compute the same signatures (not a security use).
_rng = random.Random(20261125)  # noqa: S311
_COEFFICIENTS = [
    (_rng.randrange(1, _PRIME), _rng.randrange(0, _PRIME)) for _ in range(PERMUTATIONS)
]


def shingles(story: str, size: int = SHINGLE) -> set[int]:
    """CRC-32 of each character ``size``-gram of an already cleaned story text."""
    if len(story) <= size:
        return {zlib.crc32(story.encode("utf-8"))} if story else set()
    return {zlib.crc32(story[i : i + size].encode("utf-8")) for i in range(len(story) - size + 1)}


def signature(hashed: set[int]) -> tuple[int, ...]:
    """The MinHash signature (one minimum per hash function); empty for an empty set."""
    if not hashed:
        return ()
    values = list(hashed)
    return tuple(min([(a * x + b) % _PRIME for x in values]) for a, b in _COEFFICIENTS)


def bands(sig: tuple[int, ...]) -> list[str]:
    """One short key per band: ``<band index>:<16 hex of a hash of its rows>``."""
    keys = []
    for band in range(BANDS):
        rows = sig[band * ROWS : (band + 1) * ROWS]
        digest = hashlib.blake2b(repr(rows).encode("ascii"), digest_size=8).hexdigest()
        keys.append(f"{band}:{digest}")
    return keys


def similarity(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """Estimated Jaccard similarity of the sets behind two signatures."""
    if not a or not b or len(a) != len(b):
        return 0.0
    return sum(1 for x, y in zip(a, b, strict=True) if x == y) / len(a)
