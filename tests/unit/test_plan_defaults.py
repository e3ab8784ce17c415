"""The one order of levels (plan/defaults.py): what every package compares levels with."""

from __future__ import annotations

from chalicelib.plan.defaults import LEVEL_RANK, more_severe, rank, worst
from chalicelib.plan.models import LEVELS


def test_levels_rank_from_i_down_to_iv_and_anything_else_below() -> None:
    assert [rank(level) for level in LEVELS] == [4, 3, 2, 1]
    assert LEVEL_RANK == {"I": 4, "II": 3, "III": 2, "IV": 1}
    for stray in (None, "", "V", "i", 3, ["I"]):
        assert rank(stray) == 0


def test_more_severe_is_a_strict_order_with_no_level_at_the_bottom() -> None:
    assert more_severe("I", "II")
    assert more_severe("III", "IV")
    assert more_severe("IV", None)
    assert not more_severe("II", "II")
    assert not more_severe("II", "I")
    assert not more_severe(None, "IV")
    assert not more_severe(None, None)
    assert not more_severe("V", "IV")


def test_worst_picks_the_gravest_level_and_ignores_what_is_not_one() -> None:
    assert worst("III", "I", "IV") == "I"
    assert worst(None, "II") == "II"
    assert worst("II", None) == "II"
    assert worst("IV", "IV") == "IV"
    assert worst(None, "bogus") is None
    assert worst() is None
