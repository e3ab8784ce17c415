"""``GET /`` and ``GET /assets/{name}``: the dashboard's page and files, no token needed.

The files hold no data (every figure comes from the API with the bearer token), so serving them
openly tells nobody anything; an unknown name is a 404 like any missing thing.
"""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.core.errors import NotFoundError
from chalicelib.core.http import api
from chalicelib.dashboard.assets import INDEX, Asset, load

bp = Blueprint(__name__)


def _serve(asset: Asset) -> Response:
    request = bp.current_request
    headers: dict[str, str | list[str]] = {**asset.headers()}
    if request is not None and request.headers.get("if-none-match") == asset.etag:
        return Response(body="", status_code=304, headers=headers)
    return Response(body=asset.body, status_code=200, headers=headers)


@bp.route("/", methods=["GET"])
@api
def index() -> Response:
    asset = load(INDEX)
    assert asset is not None  # the page is always in the package
    return _serve(asset)


@bp.route("/assets/{name}", methods=["GET"])
@api
def asset(name: str) -> Response:
    found = load(name) if name != INDEX else None
    if found is None:
        raise NotFoundError(f"no dashboard file {name!r}")
    return _serve(found)
