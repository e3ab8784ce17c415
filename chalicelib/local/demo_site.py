"""A small demo website that local mode serves on loopback, so the pipeline has input offline.

It plays the public talking about a fictional organisation, 滨江市第一人民医院 (a municipal
hospital) and its neighbour 滨江大学: an RSS feed of microblog-style posts (``/feed.xml``) with a
few complaints, one story reposted many times (a small repost storm: ``//@`` chains of the same
complaint) and ordinary news; and a forum's JSON API (``/forum.json``) for the generic JSON
adapter. Timestamps are minutes before the site started; ids are fixed, so re-crawling writes
nothing new. The example sources (``examples/sources.json``) point at it through ``{demo}``.

While it runs it is a *local site* (:data:`chalicelib.sources.guard.LOCAL_SITES`): the one
address on loopback that local sources and evidence may reach; moto, the API and everything
else on the machine stay out of reach (decision 68).
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

from chalicelib.sources.guard import LOCAL_SITES, LocalSite

ORIGINAL = "滨江市第一人民医院急诊排队三个小时没人管，孩子高烧一直哭，护士还态度恶劣！"
# (minutes ago, author, text) — fictional people and events.
POSTS: list[tuple[int, str, str]] = [
    (5, "滨江吃瓜群众", ORIGINAL),
    (9, "路过的小李", f"转发微博 //@滨江吃瓜群众:{ORIGINAL}"),
    (11, "江边的风", f"太过分了 //@滨江吃瓜群众:{ORIGINAL}"),
    (12, "阿珍爱生活", f"希望有关部门管一管 //@路过的小李:转发微博 //@滨江吃瓜群众:{ORIGINAL}"),
    (14, "夜班司机老周", f"//@滨江吃瓜群众:{ORIGINAL}"),
    (15, "滨江小喇叭", "#滨江一院# 急诊排队三小时没人管？孩子高烧，家长称护士态度恶劣"),
    (
        30,
        "维权的王女士",
        "在滨江市第一人民医院做了个小手术，收费单上多了两千多块不明费用，找谁都说不清，准备去曝光维权。",
    ),
    (45, "滨江大学学生会", "滨江大学图书馆本周起延长开放至晚上十一点，欢迎同学们前来自习。"),
    (60, "滨江发布", "滨江市第一人民医院新门诊楼将于下月启用，新增停车位八百个。"),
    (75, "健康滨江", "秋冬季流感高发，滨江市第一人民医院提醒市民及时接种疫苗。"),
    (90, "匿名网友", "听说滨江市第一人民医院有医生收红包，有没有知情人？"),
    (120, "滨江日报", "滨江大学与滨江市第一人民医院共建临床医学院签约仪式举行。"),
]
FORUM: list[tuple[int, str, str, str, int]] = [
    (7, "一院停车太难了", "每天早上排队一小时才能进停车场，医院能不能想想办法？", "老滨江", 48),
    (25, "滨江大学食堂涨价了吗", "今天去二食堂发现好几个菜都涨了一块钱。", "大三学生", 12),
    (50, "点赞一院儿科的张医生", "凌晨带孩子去看病，张医生特别耐心，谢谢！", "新手妈妈", 30),
]


def _rss(started: datetime, base: str) -> bytes:
    items = []
    for index, (minutes, author, text) in enumerate(POSTS, start=1):
        title = text[:30]
        items.append(
            "<item>"
            f"<title>{escape(title)}</title>"
            f"<link>{base}/post/{index}</link>"
            f'<guid isPermaLink="false">demo-post-{index}</guid>'
            f"<description>{escape(text)}</description>"
            f"<author>{escape(author)}</author>"
            f"<pubDate>{format_datetime(started - timedelta(minutes=minutes))}</pubDate>"
            "</item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        "<title>滨江同城微博（演示）</title>"
        f"<link>{base}/</link><description>local mode demo feed</description>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def _forum(started: datetime) -> bytes:
    threads = [
        {
            "tid": 7000 + index,
            "subject": subject,
            "body": body,
            "user": {"nick": nick},
            "created": (started - timedelta(minutes=minutes)).isoformat(),
            "stats": {"replies": replies},
            "link": f"/thread/{7000 + index}",
        }
        for index, (minutes, subject, body, nick, replies) in enumerate(FORUM, start=1)
    ]
    return json.dumps({"code": 0, "result": {"threads": threads}}, ensure_ascii=False).encode()


class DemoSite:
    """The demo site on ``host:port`` (0: any free port) in a daemon thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.started = datetime.now(UTC).replace(second=0, microsecond=0)
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                pages = {
                    "/feed.xml": (
                        "application/rss+xml; charset=utf-8",
                        _rss(site.started, site.url),
                    ),
                    "/forum.json": ("application/json; charset=utf-8", _forum(site.started)),
                    "/robots.txt": ("text/plain", b"User-agent: *\nAllow: /\n"),
                }
                page = pages.get(self.path.split("?", 1)[0])
                if page is None:
                    self.send_error(404)
                    return
                content_type, body = page
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        try:
            self._server = ThreadingHTTPServer((host, port), Handler)
        except OSError:
            if not port:
                raise
            self._server = ThreadingHTTPServer((host, 0), Handler)  # the saved port is taken
        self._server.daemon_threads = True
        self.url = f"http://{host}:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
        )

    @property
    def site(self) -> LocalSite:
        ip, port = self._server.server_address[:2]
        return LocalSite.at(str(ip), int(port))

    def start(self) -> None:
        self._thread.start()
        LOCAL_SITES.add(self.site)

    def stop(self) -> None:
        LOCAL_SITES.discard(self.site)
        self._server.shutdown()
        self._server.server_close()
