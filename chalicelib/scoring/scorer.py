"""The scoring entry point: one object per plan version that scores posts, pure and fast.

``Scorer(config).analyse(text)`` reads the text once (subject rules, sentiment, crisis words);
``Scorer.score(...)`` adds the spread signals and returns the risk, level and reasons. No I/O:
the sink and the command line feed it and store what it returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.scoring.config import ScoringConfig, config_for_plan
from chalicelib.scoring.crisis import crisis_hits
from chalicelib.scoring.risk import Analysis, Assessment, Spread, SubjectMatch, assess
from chalicelib.scoring.rules import normalise
from chalicelib.scoring.segment import default_segmenter
from chalicelib.scoring.sentiment import SentimentScorer, default_scorer


@dataclass(frozen=True)
class Score:
    """Everything stored with a post and printed by the command line."""

    analysis: Analysis
    assessment: Assessment

    @property
    def risk(self) -> float:
        return self.assessment.risk

    @property
    def level(self) -> str | None:
        return self.assessment.level

    def as_dict(self) -> dict[str, Any]:
        sentiment = self.analysis.sentiment
        return {
            "sentiment": sentiment.score,
            "negative": sentiment.negative,
            "risk": self.assessment.risk,
            "level": self.assessment.level,
            "subjects": [m.id for m in self.analysis.subjects],
            "crisis_words": [w for w, _ in self.analysis.crisis.words],
            "components": self.assessment.components,
            "reasons": self.assessment.reasons,
        }


class Scorer:
    def __init__(self, config: ScoringConfig, sentiment: SentimentScorer | None = None) -> None:
        self.config = config
        self._sentiment = sentiment or default_scorer()
        # The plan's names stay whole when the lexicon reads the text (user dictionary).
        default_segmenter().add_terms(config.terms())

    def analyse(self, content: str) -> Analysis:
        text = normalise(content)
        subjects = []
        for subject in self.config.subjects:
            words = subject.rule.match(text, normalised=True)
            if words is not None:
                subjects.append(SubjectMatch(subject.id, subject.name, subject.rule.text, words))
        return Analysis(
            subjects=tuple(subjects),
            sentiment=self._sentiment.score(content),
            crisis=crisis_hits(text),
        )

    def assess(self, analysis: Analysis, spread: Spread) -> Assessment:
        return assess(analysis, spread, self.config)

    def score(self, content: str, spread: Spread | None = None) -> Score:
        analysis = self.analyse(content)
        return Score(analysis, self.assess(analysis, spread or Spread()))


_scorers: dict[str, Scorer] = {}


def scorer_for_plan(plan: Mapping[str, Any]) -> Scorer:
    """A scorer for a plan document, built once per version of its levels and subjects."""
    config = config_for_plan(plan)
    scorer = _scorers.get(config.version)
    if scorer is None:
        if len(_scorers) >= 8:
            _scorers.clear()
        scorer = _scorers[config.version] = Scorer(config)
    return scorer
