"""Risk, levels and reasons; the plan sections scoring reads; the command line."""

import io
import json

import pytest

from chalicelib.core.errors import ValidationError
from chalicelib.plan.defaults import BUILTIN_PLAN
from chalicelib.scoring.__main__ import main, run
from chalicelib.scoring.config import build_config, config_for_plan
from chalicelib.scoring.crisis import crisis_hits
from chalicelib.scoring.risk import Spread, can_reach_level, heat, spread_score
from chalicelib.scoring.scorer import Scorer, scorer_for_plan

CONFIG = build_config(BUILTIN_PLAN)


@pytest.mark.parametrize(
    ("risk", "level"),
    [
        (1.0, "I"),
        (0.85, "I"),
        (0.8499, "II"),
        (0.7, "II"),
        (0.6999, "III"),
        (0.5, "III"),
        (0.4999, "IV"),
        (0.3, "IV"),
        (0.2999, None),
        (0.0, None),
    ],
)
def test_levels_at_their_edges(risk, level):
    assert CONFIG.level_for(risk) == level


def test_levels_follow_the_plans_thresholds():
    plan = {**BUILTIN_PLAN, "levels": [{"id": "I", "min_risk": 0.9}, {"id": "IV", "min_risk": 0.1}]}
    config = build_config(plan)
    assert config.level_for(0.5) == "IV"
    assert config.level_for(0.9) == "I"
    assert config.level_for(0.05) is None


def test_a_broken_plan_reports_every_problem_with_its_path():
    plan = {
        "levels": [{"id": "V", "min_risk": 0.2}, {"id": "I", "min_risk": 2}],
        "subjects": [
            {"id": "a", "name": "甲", "rule": "(爆炸"},
            {"id": "a", "name": "乙", "rule": "x"},
        ],
    }
    with pytest.raises(ValidationError) as caught:
        build_config(plan)
    paths = {p.path for p in caught.value.problems}
    assert {"/levels/0/id", "/levels/1/min_risk", "/subjects/0/rule", "/subjects/1/id"} <= paths
    rule_problem = next(p for p in caught.value.problems if p.path == "/subjects/0/rule")
    assert "position 0" in rule_problem.message


def test_config_is_compiled_once_per_content():
    first = config_for_plan(BUILTIN_PLAN)
    assert config_for_plan(json.loads(json.dumps(BUILTIN_PLAN))) is first
    other = {**BUILTIN_PLAN, "title": "只改了无关的部分"}
    assert config_for_plan(other) is first
    changed = {**BUILTIN_PLAN, "subjects": [{"id": "x", "name": "某", "rule": "某"}]}
    assert config_for_plan(changed) is not first


def test_crisis_words_combine_and_do_not_double_count():
    hit = crisis_hits("学校食堂发生食物中毒，多人受伤")
    assert [w for w, _ in hit.words] == ["食物中毒", "受伤"]  # 中毒 is inside 食物中毒
    assert hit.strength == pytest.approx(1 - (1 - 0.9) * (1 - 0.5))
    assert crisis_hits("今天天气很好").strength == 0.0


def test_heat_and_spread_are_bounded_and_monotone():
    assert heat({}, None) == 0.0
    assert 0 < heat({"reposts": 10}, None) < heat({"reposts": 1000}, None) <= 1.0
    assert heat({}, 1) == 1.0
    assert heat({}, 60) == 0.0
    assert spread_score(1, 1.0) == 0.0
    assert spread_score(1000, 1.0) == 1.0
    assert spread_score(1, 16.0) == 1.0
    assert 0 < spread_score(10, 2.0) < 1


def test_every_score_carries_its_reasons():
    scorer = Scorer(CONFIG)
    score = scorer.score(
        "市一院门口发生爆炸，已有伤亡，太可怕了[泪]",
        Spread(engagement={"reposts": 5000}, cluster_size=300, growth=20.0, credibility=0.9),
    )
    reasons = {r["factor"]: r for r in score.assessment.reasons}
    assert reasons["subject"]["subject"] == "hospital"
    assert reasons["subject"]["words"] == ["市一院"]
    assert reasons["sentiment"]["negative"] is True
    assert set(reasons["crisis"]["words"]) == {"爆炸", "伤亡"}
    assert reasons["heat"]["engagement"] == {"reposts": 5000}
    assert reasons["spread"]["cluster_size"] == 300
    assert reasons["credibility"]["value"] == 0.9
    assert reasons["risk"]["value"] == score.risk
    assert score.level == "I"
    assert all(r["text"] for r in score.assessment.reasons)


def test_relevance_and_credibility_move_the_risk():
    scorer = Scorer(CONFIG)
    about_us = scorer.score("市一院发生医疗事故，患者死亡，太气人了").risk
    elsewhere = scorer.score("某地医院发生医疗事故，患者死亡，太气人了").risk
    assert about_us > elsewhere
    text = "市一院发生医疗事故，患者死亡"
    trusted = scorer.score(text, Spread(credibility=1.0)).risk
    doubtful = scorer.score(text, Spread(credibility=0.0)).risk
    assert trusted > doubtful


def test_only_posts_that_could_reach_a_level_are_worth_clustering():
    scorer = Scorer(CONFIG)
    assert not can_reach_level(scorer.analyse("今天天气真好，开心"), 1.0, CONFIG)
    assert can_reach_level(scorer.analyse("市一院今天义诊"), 0.5, CONFIG)  # about a subject
    assert can_reach_level(scorer.analyse("某地化工厂爆炸，多人伤亡"), 0.5, CONFIG)


def test_command_line_scores_json_lines_and_reports_bad_lines():
    lines = [
        json.dumps({"id": 1, "text": "市一院门口发生爆炸，已有伤亡", "engagement": {"reposts": 9}}),
        json.dumps({"id": "b", "title": "今天天气真好", "platform": "weibo"}),
        "not json",
        json.dumps({"id": 4, "text": 5}),
        "",
    ]
    out = io.StringIO()
    status = run(lines, scorer_for_plan(BUILTIN_PLAN), out)
    results = [json.loads(line) for line in out.getvalue().splitlines()]
    assert status == 1
    assert len(results) == 4
    first, second, bad_json, bad_text = results
    assert first["id"] == 1
    assert first["subjects"] == ["hospital"]
    assert first["negative"] is True
    assert first["sentiment"] < 0
    assert first["level"] in {"I", "II", "III", "IV"}
    assert 0 <= first["risk"] <= 1
    assert first["reasons"]
    assert second["platform"] == "weibo"
    assert second["level"] is None
    assert second["subjects"] == []
    assert "error" in bad_json
    assert bad_text == {"id": 4, "error": "text and title must be strings"}


def test_command_line_reads_a_plan_file_and_rejects_a_broken_one(tmp_path, monkeypatch, capsys):
    plan = {**BUILTIN_PLAN, "subjects": [{"id": "plant", "name": "化工厂", "rule": "化工厂"}]}
    good = tmp_path / "plan.json"
    good.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps({"id": 1, "text": "化工厂起火"})))
    assert main(["--plan", str(good)]) == 0
    assert json.loads(capsys.readouterr().out)["subjects"] == ["plant"]

    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({**plan, "subjects": [{"id": "x", "name": "x", "rule": "a OR"}]}))
    assert main(["--plan", str(broken)]) == 2
    assert "position" in capsys.readouterr().err
