"""Sources (监测来源) and crawling: hot lists, feeds and pages, fetched politely and safely.

Layout: ``models`` (source definitions and their validation), ``adapters`` (pure parsers: bytes
in → items out), ``fetcher`` (the one HTTP client, with the SSRF guard, robots.txt, rate limit and
conditional GET), ``health`` (pure health rules, 技术保障), ``store`` (the sources table),
``service`` (crawl one source, dispatch due sources), ``handlers`` (schedule + SQS worker) and
``views`` (the HTTP API).
"""
