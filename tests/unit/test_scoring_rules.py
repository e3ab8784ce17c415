"""The subject rule language: what matches, what it reports, and where a broken rule breaks."""

import pytest

from chalicelib.core.errors import ValidationError
from chalicelib.scoring.rules import MAX_RULE_LENGTH, RuleSyntaxError, check, parse


@pytest.mark.parametrize(
    ("rule", "text", "hits"),
    [
        ("爆炸", "化工厂发生爆炸", ("爆炸",)),
        ("爆炸 AND 化工厂", "化工厂发生爆炸", ("化工厂", "爆炸")),
        ("爆炸 化工厂", "化工厂发生爆炸", ("化工厂", "爆炸")),  # adjacency is AND
        ("爆炸 AND 仓库", "化工厂发生爆炸", None),
        ("仓库 OR 化工厂", "化工厂发生爆炸", ("化工厂",)),
        ("(仓库 OR 化工厂) AND 爆炸", "仓库爆炸", ("仓库", "爆炸")),
        ("医院 NOT 招聘", "医院招聘护士", None),
        ("医院 NOT 招聘", "医院门口冲突", ("医院",)),
        ("医院 AND NOT (招聘 OR 广告)", "医院广告", None),
        ('"new york"', "Flooding in NEW YORK today", ("new york",)),
        ("ＡＢＣ", "abc公司", ("ＡＢＣ",)),  # NFKC: full-width equals half-width
        ('"AND"', "a AND b", ("AND",)),  # a quoted operator is a keyword
        ("“市一院”", "市一院回应", ("市一院",)),
        ("a OR b AND c", "a", ("a",)),  # AND binds tighter than OR
        ("a OR b AND c", "b", None),
    ],
)
def test_rules_match_substrings_and_report_the_words_that_matched(rule, text, hits):
    assert parse(rule).match(text) == hits


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ("化工厂昨晚发生爆炸", True),  # gap 3 characters
        ("爆炸发生在化工厂", True),  # the other order: gap 3
        ("化工厂位于城东，距离市中心二十公里，今日凌晨发生爆炸", False),  # gap > 5
        ("化工厂爆炸", True),  # adjacent
    ],
)
def test_near_counts_the_characters_between_the_two_sides(text, matches):
    rule = parse("化工厂 NEAR/5 爆炸")
    assert (rule.match(text) is not None) is matches


def test_near_takes_or_groups_on_either_side():
    rule = parse("(食堂 OR 外卖) NEAR/4 (中毒 OR 腹泻)")
    assert rule.match("学校食堂集体中毒") == ("中毒", "食堂")
    assert rule.match("外卖小哥说吃了会腹泻") is None  # 外卖 … 腹泻 is 6 apart


def test_keywords_lists_only_what_can_make_the_rule_true():
    assert parse("(市一院 OR 一院) 医闹 NOT 招聘").keywords() == ("市一院", "一院", "医闹")


@pytest.mark.parametrize(
    ("rule", "position", "fragment"),
    [
        ("", 0, "empty"),
        ("   ", 0, "empty"),
        ("(爆炸 OR 起火", 0, "never closed"),
        ("爆炸 OR 起火)", 8, "without a matching"),
        ("爆炸 AND", 6, "ends where a keyword"),
        ("爆炸 OR OR 起火", 6, "OR where a keyword"),
        ('"爆炸 起火', 0, "unclosed quotation"),
        ('""', 0, "empty quoted"),
        ("()", 0, "empty parentheses"),
        ("爆炸 NEAR 起火", 3, "NEAR needs a distance"),
        ("爆炸 NEAR/9999 起火", 3, "at most"),
        ("(a AND b) NEAR/3 c", 0, "NEAR joins"),
        ("NOT 招聘", 0, "only excludes"),
        ("a ” b", 2, "closing quotation"),
    ],
)
def test_syntax_errors_say_what_and_where(rule, position, fragment):
    with pytest.raises(RuleSyntaxError) as caught:
        parse(rule)
    assert caught.value.position == position
    assert fragment in caught.value.message
    assert f"position {position}" in str(caught.value)


def test_a_syntax_error_is_a_validation_error_with_a_problem():
    with pytest.raises(ValidationError) as caught:
        parse("a OR")
    assert caught.value.status == 400
    assert caught.value.problems[0].path == "rule"


def test_limits_on_length_and_depth():
    with pytest.raises(RuleSyntaxError):
        parse("a" * (MAX_RULE_LENGTH + 1))
    with pytest.raises(RuleSyntaxError, match="nested"):
        parse("(" * 50 + "a" + ")" * 50)


def test_check_is_the_plan_validators_hook():
    assert check("爆炸 OR 起火") is None
    message = check("爆炸 OR")
    assert message is not None
    assert "position 5" in message
