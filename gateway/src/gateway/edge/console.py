"""The web console (``web/``, built to ``web/dist``) served at ``/``, on the API's own origin.

A pure-ASGI middleware, the innermost: a ``GET`` or ``HEAD`` whose path is not the
API's (under ``/v1``, or taken by any route: ``/healthz``, ``/readyz``, ``/metrics``,
``/openapi.json``, ``/docs``, ``/redoc``) is answered from the built files;
everything else goes on to the routes, so the API's own answers (404
problems included) are as they were. ``/assets/*`` are Vite's content-hashed
files: cached for a year, immutable. Any other path is a page of the console's
own router and gets ``index.html``, never cached, with a Content-Security-Policy
that allows only the origin's own scripts, styles and API, no inline script and
no framing. A path that would leave the folder, or an asset that is not there, is
a plain 404.
"""

from __future__ import annotations

from pathlib import Path

from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

CONSOLE_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
ASSETS_PREFIX = "/assets/"
IMMUTABLE = "public, max-age=31536000, immutable"
_PAGE_HEADERS = {
    "Content-Security-Policy": CONSOLE_CONTENT_SECURITY_POLICY,
    "Cache-Control": "no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


API_PREFIX = "/v1"


def is_api_path(scope: Scope, routes: list[BaseRoute]) -> bool:
    """Whether a route of the API takes the path (any method), or it is under /v1 (whose unknowns are 404 problems)."""
    path: str = scope["path"]
    if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
        return True
    return any(route.matches(scope)[0] is not Match.NONE for route in routes)


class ConsoleMiddleware:
    def __init__(self, app: ASGIApp, *, root: Path, routes: list[BaseRoute]) -> None:
        self.app = app
        self.root = root.resolve()
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or is_api_path(scope, self.routes):
            await self.app(scope, receive, send)
            return
        response = self._answer(scope["path"])
        await response(scope, receive, send)

    def _answer(self, path: str) -> Response:
        if path.startswith(ASSETS_PREFIX):
            file = (self.root / path.lstrip("/")).resolve()
            if not file.is_relative_to(self.root / "assets") or not file.is_file():
                return PlainTextResponse("not found", status_code=404)
            return FileResponse(file, headers={"Cache-Control": IMMUTABLE})
        index = self.root / "index.html"
        if not index.is_file():
            return PlainTextResponse("the web console is not built (make up builds it)", status_code=404)
        return FileResponse(index, media_type="text/html; charset=utf-8", headers=_PAGE_HEADERS)
