"""Recognising a login wall or an anti-bot challenge instead of the content (登录墙 / 人机验证).

Platforms answer a crawler they distrust with HTTP 200 and a captcha page, a redirect to a login
or "visitor" page, or an API error code, rather than an honest error. Such an answer must not
count as "no news": it marks the source unhealthy at once and tells 技术保障组. Checks run only
when the response was not the expected content (an error status, or no items parsed), so a news
article that merely mentions 登录 is never taken for a wall.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# Markers of challenge and login pages, in the page text or markup (lower-cased comparison).
_MARKERS = (
    "captcha",
    "geetest",
    "just a moment",
    "cf-chl",
    "challenge-platform",
    "verify you are human",
    "are you a robot",
    "安全验证",
    "人机验证",
    "滑动验证",
    "访问验证",
    "验证码",
    "请完成验证",
    "异常访问",
    "访问过于频繁",
    "请登录",
    "登录后查看",
    "登录后可查看",
    "扫码登录",
    "passport.weibo.com/visitor",
    "sina visitor system",
)
_LOGIN_PATH = re.compile(r"(^|/)(login|signin|sign_in|passport|visitor|captcha|verify)", re.I)
# API error codes that mean "we think you are a bot" (bilibili -352/-412, others 412/403 style).
_BLOCK_STATUSES = frozenset({401, 403, 412, 418, 429})


def challenge_reason(status: int, final_url: str, body_text: str) -> str | None:
    """Why this answer looks like a login wall or a challenge, or None if it does not."""
    parts = urlsplit(final_url)
    if _LOGIN_PATH.search(parts.path) or parts.hostname in {
        "passport.weibo.com",
        "passport.baidu.com",
    }:
        return f"redirected to a login or verification page ({parts.hostname}{parts.path})"
    head = body_text[:20000].lower()
    for marker in _MARKERS:
        if marker in head:
            return f"login wall or anti-bot challenge (page mentions {marker!r})"
    if re.search(r'"code"\s*:\s*-(352|412)\b', head):
        return "anti-bot challenge (risk-control error code)"
    if status in _BLOCK_STATUSES:
        return f"refused by the platform (HTTP {status})"
    return None
