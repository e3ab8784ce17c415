"""Building the token store from settings and clients."""

from __future__ import annotations

from chalicelib.auth.store import TokenStore
from chalicelib.core.aws import get_clients
from chalicelib.core.settings import get_settings


def token_store() -> TokenStore:
    return TokenStore(get_clients().table(get_settings().tables.tokens))
