"""Risk (风险) and level (级别): from what a post says and how it spreads to a score in [0, 1].

Two halves, so the expensive part runs once per post and the spread can be re-applied as a
cluster grows:

- :class:`Analysis` — what the text says (pure function of the text and the plan): which
  subjects' rules match and on which words, sentiment, crisis words.
- :func:`assess` — the risk from the analysis plus the signals of spread: heat (engagement,
  hot-list rank), velocity (the cluster's growth against its own baseline, and its size) and
  the source's credibility.

The formula, on components each in [0, 1]::

    base = 0.30·negative + 0.30·crisis + 0.15·heat + 0.15·spread + 0.10·credibility
    risk = 0.15 + 0.85·base   if a subject's rule matched      (it is about us)
           0.60·base          otherwise                         (a social hot spot at most)

With the default thresholds (IV 0.3 … I 0.85), a post about no subject can reach IV or III
at most, and a post that is neither negative nor about a crisis never reaches a level — which
is why such posts start no cluster (:func:`can_reach_level`). Every number and word that went
in is returned as a reason a person can read.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.scoring.config import ScoringConfig
from chalicelib.scoring.crisis import CrisisHit
from chalicelib.scoring.sentiment import Sentiment

WEIGHTS = {"negative": 0.30, "crisis": 0.30, "heat": 0.15, "spread": 0.15, "credibility": 0.10}
RELEVANT_FLOOR = 0.15
IRRELEVANT_FACTOR = 0.60

# Engagement counters weighted by how much each says about reach; heat 1.0 ≈ 100k weighted.
ENGAGEMENT_WEIGHTS = {"reposts": 3.0, "comments": 2.0, "likes": 0.5, "views": 0.01, "heat": 0.001}
HEAT_SATURATION = 100_000.0
# A hot-list rank of 1 is heat 1.0, falling linearly to 0 at rank 51.
RANK_SPAN = 50


@dataclass(frozen=True)
class SubjectMatch:
    id: str
    name: str
    rule: str
    words: tuple[str, ...]


@dataclass(frozen=True)
class Analysis:
    """What a text says; independent of how far it has spread."""

    subjects: tuple[SubjectMatch, ...]
    sentiment: Sentiment
    crisis: CrisisHit


@dataclass(frozen=True)
class Spread:
    """How far and how fast a post's story is spreading."""

    engagement: Mapping[str, int] = field(default_factory=dict)
    rank: int | None = None
    cluster_size: int = 1
    growth: float = 1.0  # posts per window now / the cluster's own baseline rate
    credibility: float = 0.5


@dataclass(frozen=True)
class Assessment:
    risk: float
    level: str | None
    components: dict[str, float]
    reasons: list[dict[str, Any]]


def heat(engagement: Mapping[str, int], rank: int | None) -> float:
    weighted = sum(
        ENGAGEMENT_WEIGHTS.get(key, 0.0) * max(0, int(value))
        for key, value in engagement.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    )
    from_engagement = min(1.0, math.log10(1.0 + weighted) / math.log10(1.0 + HEAT_SATURATION))
    from_rank = 0.0
    if rank is not None and rank >= 1:
        from_rank = max(0.0, 1.0 - (rank - 1) / RANK_SPAN)
    return max(from_engagement, from_rank)


def spread_score(cluster_size: int, growth: float) -> float:
    """Size (1,000 posts → 1.0, log scale) and growth (16× the baseline → 1.0, log scale)."""
    size = min(1.0, math.log10(max(1, cluster_size)) / 3.0)
    rise = min(1.0, max(0.0, math.log2(max(growth, 1e-9)) / 4.0))
    return max(size, rise)


def assess(analysis: Analysis, spread: Spread, config: ScoringConfig) -> Assessment:
    credibility = min(1.0, max(0.0, spread.credibility))
    components = {
        "negative": analysis.sentiment.probability if analysis.sentiment.negative else 0.0,
        "crisis": analysis.crisis.strength,
        "heat": heat(spread.engagement, spread.rank),
        "spread": spread_score(spread.cluster_size, spread.growth),
        "credibility": credibility,
    }
    components = {k: round(v, 4) for k, v in components.items()}
    base = sum(WEIGHTS[k] * v for k, v in components.items())
    relevant = bool(analysis.subjects)
    risk = RELEVANT_FLOOR + (1 - RELEVANT_FLOOR) * base if relevant else IRRELEVANT_FACTOR * base
    risk = round(min(1.0, max(0.0, risk)), 4)
    level = config.level_for(risk)
    return Assessment(risk, level, components, _reasons(analysis, spread, components, risk, level))


# A post about no subject is clustered only with a crisis word at least this strong.
CLUSTER_CRISIS_FLOOR = 0.3


def can_reach_level(analysis: Analysis, credibility: float, config: ScoringConfig) -> bool:
    """Is this post worth a cluster of its own: could it ever open or raise an incident?

    It must be about a subject or carry a crisis word, and reach a level if it became as hot
    and as fast-growing as possible. Negative chatter about nothing of ours and no crisis is
    scored and stored, but starts no cluster: clustering costs band reads and writes (DESIGN
    §5), and a crisis team has no incident to open for it — unless people reported its story
    (人工上报): a report is clustered whatever it says, and such a post still joins a reported
    story it is like (``chalicelib.ingest.sink``, decision 77).
    """
    if not analysis.subjects and analysis.crisis.strength < CLUSTER_CRISIS_FLOOR:
        return False
    best = assess(
        analysis,
        Spread(rank=1, cluster_size=1000, growth=16.0, credibility=credibility),
        config,
    )
    return best.level is not None


def _reasons(
    analysis: Analysis,
    spread: Spread,
    components: dict[str, float],
    risk: float,
    level: str | None,
) -> list[dict[str, Any]]:
    reasons: list[dict[str, Any]] = []
    for match in analysis.subjects:
        reasons.append(
            {
                "factor": "subject",
                "subject": match.id,
                "rule": match.rule,
                "words": list(match.words),
                "text": f"命中监测主体「{match.name}」：{'、'.join(match.words)}",
            }
        )
    if not analysis.subjects:
        reasons.append(
            {
                "factor": "subject",
                "subject": None,
                "text": f"未命中监测主体：风险 × {IRRELEVANT_FACTOR}",
            }
        )
    s = analysis.sentiment
    lex = s.lexicon
    marks = [
        name
        for name, on in (("否定", lex.negated), ("转折", lex.contrast), ("反讽", lex.sarcasm))
        if on
    ]
    reasons.append(
        {
            "factor": "sentiment",
            "value": s.score,
            "negative": s.negative,
            "probability": s.probability,
            "negative_words": list(lex.negative_words[:8]),
            "positive_words": list(lex.positive_words[:8]),
            "marks": marks,
            "text": (
                f"{'负面' if s.negative else '非负面'}情感 {s.score:+.2f}"
                + (f"，负面词：{'、'.join(lex.negative_words[:5])}" if lex.negative_words else "")
                + (f"（{'、'.join(marks)}）" if marks else "")
            ),
        }
    )
    if analysis.crisis.words:
        words = [w for w, _ in analysis.crisis.words]
        reasons.append(
            {
                "factor": "crisis",
                "value": analysis.crisis.strength,
                "words": words,
                "text": f"危机词：{'、'.join(words)}（强度 {analysis.crisis.strength:.2f}）",
            }
        )
    engagement = {k: v for k, v in spread.engagement.items() if v}
    reasons.append(
        {
            "factor": "heat",
            "value": components["heat"],
            "engagement": engagement,
            "rank": spread.rank,
            "text": f"热度 {components['heat']:.2f}"
            + (f"（榜单第 {spread.rank} 位）" if spread.rank else ""),
        }
    )
    reasons.append(
        {
            "factor": "spread",
            "value": components["spread"],
            "cluster_size": spread.cluster_size,
            "growth": round(spread.growth, 2),
            "text": f"传播 {components['spread']:.2f}：同一事件 {spread.cluster_size} 条，"
            f"增速为自身基线的 {spread.growth:.1f} 倍",
        }
    )
    reasons.append(
        {
            "factor": "credibility",
            "value": components["credibility"],
            "text": f"来源可信度 {components['credibility']:.2f}",
        }
    )
    reasons.append(
        {
            "factor": "risk",
            "value": risk,
            "level": level,
            "weights": dict(WEIGHTS),
            "text": f"风险 {risk:.2f} → {level + '级' if level else '未达分级'}",
        }
    )
    return reasons
