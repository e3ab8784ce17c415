"""Crisis lexicon (危机词库): words that turn an opinion into an emergency.

Each word carries a weight in (0, 1]: how strongly it alone suggests an event the plan must
handle (伤亡、爆炸 near 1; 投诉、质疑 lower). Matched as substrings of the raw text, like subject
rules. The combined strength of several words is ``1 − Π(1 − w)``: two medium words count more
than one, and nothing exceeds 1.
"""

from __future__ import annotations

from dataclasses import dataclass

# Grouped by kind of event; the weight is the word's strength on its own.
CRISIS_WORDS: dict[str, float] = {
    # casualties and disasters 伤亡、灾害
    "伤亡": 0.9,
    "死亡": 0.85,
    "身亡": 0.85,
    "遇难": 0.9,
    "丧生": 0.85,
    "罹难": 0.9,
    "爆炸": 0.9,
    "起火": 0.6,
    "火灾": 0.7,
    "塌方": 0.8,
    "坍塌": 0.8,
    "倒塌": 0.75,
    "踩踏": 0.85,
    "泄漏": 0.7,
    "中毒": 0.8,
    "食物中毒": 0.9,
    "受伤": 0.5,
    "重伤": 0.7,
    "失踪": 0.6,
    "溺亡": 0.8,
    "跳楼": 0.8,
    "自杀": 0.8,
    "疫情": 0.4,
    "感染": 0.35,
    "事故": 0.55,
    "车祸": 0.5,
    # collective action 群体性事件
    "维权": 0.6,
    "罢工": 0.7,
    "上访": 0.55,
    "聚集": 0.45,
    "堵路": 0.6,
    "冲突": 0.55,
    "群殴": 0.7,
    "打人": 0.55,
    "讨薪": 0.6,
    "欠薪": 0.55,
    "游行": 0.6,
    "示威": 0.65,
    # exposure and misconduct 曝光、违纪违法
    "曝光": 0.5,
    "举报": 0.45,
    "实名举报": 0.7,
    "贪污": 0.65,
    "受贿": 0.65,
    "腐败": 0.6,
    "性侵": 0.8,
    "猥亵": 0.75,
    "霸凌": 0.65,
    "虐待": 0.65,
    "体罚": 0.5,
    "暴力执法": 0.75,
    "黑幕": 0.5,
    "潜规则": 0.45,
    "学术造假": 0.6,
    "数据造假": 0.6,
    "偷排": 0.6,
    "污染": 0.45,
    "假药": 0.7,
    "问题疫苗": 0.8,
    "质量问题": 0.4,
    "召回": 0.4,
    "医疗事故": 0.8,
    "医闹": 0.65,
    "投诉": 0.3,
    "质疑": 0.3,
    "辟谣": 0.4,
    # rumours 谣言
    "造谣": 0.55,
    "谣言": 0.45,
    "传谣": 0.5,
    "不实信息": 0.45,
}


@dataclass(frozen=True)
class CrisisHit:
    words: tuple[tuple[str, float], ...]  # (word, weight), strongest first
    strength: float  # 1 − Π(1 − w), in [0, 1)


def crisis_hits(normalised_text: str, words: dict[str, float] = CRISIS_WORDS) -> CrisisHit:
    """The crisis words in a (normalised) text. A word inside a longer listed word that also
    matched (中毒 in 食物中毒) is not counted twice."""
    found = [(w, weight) for w, weight in words.items() if w in normalised_text]
    longer = [w for w, _ in found]
    kept = [(w, weight) for w, weight in found if not any(w != o and w in o for o in longer)]
    kept.sort(key=lambda pair: (-pair[1], pair[0]))
    remaining = 1.0
    for _, weight in kept:
        remaining *= 1.0 - weight
    return CrisisHit(words=tuple(kept), strength=round(1.0 - remaining, 4))
