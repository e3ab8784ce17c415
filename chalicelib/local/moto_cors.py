"""moto's server must not answer web pages: its global CORS is switched off before it starts.

moto's server wraps every backend in flask-cors, which echoes any ``Origin`` back in
``Access-Control-Allow-Origin``: any web page open in the developer's browser could then read
``/moto-api/data.json`` (every table, every contact) or call the APIs on the loopback port.
moto's switch is the environment variable ``MOTO_DISABLE_GLOBAL_CORS`` (any non-empty value), but
moto reads it once, when ``moto.settings`` is imported, and ``moto.moto_server.werkzeug_app``
copies the value at its own import — which has happened by the time local mode starts the
server. So the copy that the per-service Flask apps consult (they are built lazily, at each
service's first request) is set here too, and the variable is set for any process started from
this one. A private detail of moto like :mod:`.lambda_hook`'s: moto is pinned, and
``tests/functional/test_local_moto_cors.py`` fails if the switch stops working.
"""

from __future__ import annotations

import os

from moto.moto_server import werkzeug_app

ENV = "MOTO_DISABLE_GLOBAL_CORS"


def disable_global_cors() -> None:
    """Switch moto's global CORS off for servers started after this call."""
    os.environ[ENV] = "true"
    werkzeug_app.DISABLE_GLOBAL_CORS = True  # type: ignore[attr-defined]  # imported there
