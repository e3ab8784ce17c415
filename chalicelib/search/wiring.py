"""Building the search from settings and clients."""

from __future__ import annotations

from chalicelib.core.aws import get_clients
from chalicelib.core.settings import get_settings
from chalicelib.posts.store import PostStore
from chalicelib.search.service import PostSearch


def post_search() -> PostSearch:
    settings, clients = get_settings(), get_clients()
    return PostSearch(PostStore(clients.table(settings.tables.posts)))
