"""Weibo-style text clean-up shared by sentiment and clustering.

Real 舆情 text is full of markup that is not the story: repost chains (``//@用户:…``), mentions
(``@用户``), hashtags (``#话题#``), emoji codes (``[怒]``), links. Sentiment wants the opinion words
and the emoji (an ``[怒]`` is a strong signal) but not user names; clustering wants only the
story's own words, so that a thousand reposts of one text, each with a different chain of
comments, look alike.
"""

from __future__ import annotations

import re

URL = re.compile(r"https?://[^\s\u4e00-\u9fff]+|www\.[^\s\u4e00-\u9fff]+", re.IGNORECASE)
# ``//@name:`` or ``//@name：`` starts a reposted comment; the name ends at the colon.
REPOST_MARK = re.compile(r"//\s*@[^:：\s/]{1,30}[:：]?")
MENTION = re.compile(r"@[^\s:：@/，,。!！?？]{1,30}")
HASHTAG = re.compile(r"#[^#\n]{1,60}#")
EMOJI_CODE = re.compile(r"\[[^\[\]\s]{1,8}\]")
# 回复@name: at the start of a comment.
REPLY = re.compile(r"回复@[^:：\s]{1,30}[:：]")
_SPACE = re.compile(r"\s+")


def emoji_codes(text: str) -> list[str]:
    """The emoji codes in a text, e.g. ``["[怒]", "[心]"]``."""
    return EMOJI_CODE.findall(text)


def for_sentiment(text: str) -> str:
    """The opinion text: links, user names and emoji codes removed; repost comments kept
    (they are opinions too) but separated by ``|`` so no n-gram spans two people."""
    text = URL.sub(" ", text)
    text = REPLY.sub("|", text)
    text = REPOST_MARK.sub("|", text)
    text = MENTION.sub(" ", text)
    return EMOJI_CODE.sub("|", text)


def story_text(text: str) -> str:
    """The text of the story itself, for near-duplicate detection.

    A repost is ``comment//@a:comment//@b:original``; the part after the last ``//@`` mark is
    the oldest text in the chain, the story. Hashtags, links, emoji codes and mentions are
    dropped, then spaces, and the rest is lower-cased.
    """
    return _SPACE.sub("", _clean(_story_part(text))).lower()


def headline(text: str, limit: int = 60) -> str:
    """The story part of a post as a person would read it (for incident titles)."""
    cleaned = _SPACE.sub(" ", _clean(_story_part(text))).strip()
    return cleaned[:limit]


def _story_part(text: str) -> str:
    marks = list(REPOST_MARK.finditer(text))
    if not marks:
        return text
    tail = text[marks[-1].end() :]
    # A bare tail (``转发微博``, an emoji) says nothing of the story: keep the whole chain.
    if len(_SPACE.sub("", _clean(tail))) >= MIN_STORY_CHARS:
        return tail
    return REPOST_MARK.sub(" ", text)


# Shorter chain tails than this are comments like 转发微博, not a story.
MIN_STORY_CHARS = 8


def _clean(text: str) -> str:
    text = URL.sub("", text)
    text = HASHTAG.sub("", text)
    text = EMOJI_CODE.sub("", text)
    text = REPLY.sub("", text)
    return MENTION.sub("", text)
