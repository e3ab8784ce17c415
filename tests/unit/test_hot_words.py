"""Hot words (热词): which words count, how a batch is grouped, and how a rise is ranked."""

from collections import Counter

from chalicelib.scoring.segment import default_segmenter
from chalicelib.trends.words import (
    ALL,
    BATCH_TOP,
    Worded,
    hot_words,
    keep,
    post_words,
    total,
    word_counts,
)


def test_only_words_that_can_be_hot_are_kept() -> None:
    assert keep("医疗纠纷")
    assert keep("停水")
    assert keep("AI")
    # single characters, numbers, stop words, boilerplate and link pieces are not
    for word in ("的", "了", "2026", "３０", "我们", "转发", "展开全文", "http", "cn", " ", "。。"):
        assert not keep(word), word
    assert not keep("很" * 21)  # longer than any word a person would search for


def test_a_post_counts_each_of_its_words_once_without_links_names_or_emoji() -> None:
    cut = default_segmenter().cut
    words = post_words(
        "转发微博 停水停水停水！小区停水三天了 http://t.cn/A6xYzQ @物业小王 [怒] #小区停水#", cut
    )
    assert "停水" in words
    assert "小区" in words
    assert not {"A6xYzQ", "物业小王", "怒", "转发", "微博", "http"} & words
    assert isinstance(words, frozenset)


def test_a_batch_is_grouped_by_ten_minutes_and_subject_with_its_top_words() -> None:
    posts = [
        Worded("2026-03-09T02:10:00+00:00", ("hospital",), frozenset({"停水", "医院"})),
        Worded("2026-03-09T02:19:59+00:00", (), frozenset({"停水"})),
        Worded("2026-03-09T02:40:00+00:00", ("hospital",), frozenset({"医院"})),
    ]
    groups = {(c.day, c.hour, c.slot, c.key): c for c in word_counts(posts)}
    assert set(groups) == {
        ("2026-03-09", 2, 1, ALL),
        ("2026-03-09", 2, 1, "hospital"),
        ("2026-03-09", 2, 4, ALL),
        ("2026-03-09", 2, 4, "hospital"),
    }
    assert groups[("2026-03-09", 2, 1, ALL)].posts == 2
    assert groups[("2026-03-09", 2, 1, ALL)].words == Counter({"停水": 2, "医院": 1})
    assert groups[("2026-03-09", 2, 1, "hospital")].words == Counter({"停水": 1, "医院": 1})


def test_a_batch_adds_only_its_top_words_and_always_the_same_ones() -> None:
    many = frozenset(f"词{i:03d}" for i in range(BATCH_TOP * 3))
    posts = [Worded("2026-03-09T02:00:00+00:00", (), many | {"停水"}) for _ in range(2)]
    posts.append(Worded("2026-03-09T02:05:00+00:00", (), frozenset({"停水"})))
    (group,) = word_counts(posts)
    assert len(group.words) == BATCH_TOP
    assert group.words["停水"] == 3  # the most used word is always in
    # ties (every other word twice) are broken by the word: the same batch adds the same words
    assert sorted(group.words) == sorted(word_counts(list(reversed(posts)))[0].words)
    assert total([group, group]) == (6, group.words + group.words)


def test_a_word_is_hot_by_its_share_not_by_the_days_volume() -> None:
    baseline = {"医院": 70, "食堂": 7}
    # a day with twice the posts and the same shares has no hot word
    assert hot_words(20, {"医院": 20, "食堂": 2}, 70, baseline, min_count=1) == []
    # a word used far beyond its share rises; a new word is new; a falling one is not listed
    ranked = hot_words(10, {"医院": 3, "食堂": 6, "停水": 5, "偶然": 2}, 70, baseline)
    assert [h.word for h in ranked] == ["停水", "食堂"]
    stop, canteen = ranked
    assert stop.new
    assert stop.expected == 0
    assert stop.rise == 6.0
    assert not canteen.new
    assert canteen.expected == 1.0
    assert canteen.rise == 3.5
    assert canteen.as_dict() == {
        "word": "食堂",
        "count": 6,
        "expected": 1.0,
        "rise": 3.5,
        "new": False,
    }


def test_equal_rises_list_by_count_then_word_and_a_limit_cuts_the_tail() -> None:
    ranked = hot_words(5, {"乙": 4, "甲": 4, "丙": 9}, 0, {}, limit=2)
    assert [h.word for h in ranked] == ["丙", "乙"]  # 丙 rises most; 乙 < 甲 by code point
