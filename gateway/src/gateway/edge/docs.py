"""The interactive API docs (`/docs`, `/docs/oauth2-redirect`, `/redoc`) with a Content-Security-Policy each.

The pages are FastAPI's own (Swagger UI and ReDoc from the jsDelivr CDN); the
policy allows exactly what each page loads: its scripts and styles from the
CDN path of its bundle (no other CDN package), its inline scripts by their
SHA-256 (computed from the page served, so the policy cannot drift from it),
the API's own origin for the OpenAPI document and "try it out", and nothing
may frame the pages. Swagger UI's online validator badge is turned off (it
would send the document to a third party). Every other answer of the gateway
gets the edge's strict policy (``default-src 'none'``), see
:mod:`gateway.edge.middleware`.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse

DOCS_PATH = "/docs"
OAUTH2_REDIRECT_PATH = "/docs/oauth2-redirect"
REDOC_PATH = "/redoc"
SWAGGER_CDN = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/"
REDOC_CDN = "https://cdn.jsdelivr.net/npm/redoc@2/"

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _script_hashes(html: str) -> str:
    hashes = []
    for script in _INLINE_SCRIPT.findall(html):
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        hashes.append(f"'sha256-{digest}'")
    return " ".join(hashes)


def _policy(*directives: str) -> str:
    common = ("base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'")
    return "; ".join((*directives, *common))


@dataclass(frozen=True)
class DocsPage:
    html: str
    policy: str

    def response(self) -> HTMLResponse:
        headers = {"Content-Security-Policy": self.policy, "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"}
        return HTMLResponse(self.html, headers=headers)


def _page(html: HTMLResponse, policy: str) -> DocsPage:
    return DocsPage(bytes(html.body).decode(), policy)


def docs_pages(openapi_url: str, title: str) -> dict[str, DocsPage]:
    """The three pages, by path, each with its policy."""
    swagger = get_swagger_ui_html(
        openapi_url=openapi_url,
        title=f"{title} - Swagger UI",
        swagger_js_url=SWAGGER_CDN + "swagger-ui-bundle.js",
        swagger_css_url=SWAGGER_CDN + "swagger-ui.css",
        swagger_favicon_url=SWAGGER_CDN + "favicon-32x32.png",
        oauth2_redirect_url=OAUTH2_REDIRECT_PATH,
        swagger_ui_parameters={"validatorUrl": None},
    )
    swagger_html = bytes(swagger.body).decode()
    redirect = get_swagger_ui_oauth2_redirect_html()
    redoc = get_redoc_html(
        openapi_url=openapi_url,
        title=f"{title} - ReDoc",
        redoc_js_url=REDOC_CDN + "bundles/redoc.standalone.js",
        redoc_favicon_url=SWAGGER_CDN + "favicon-32x32.png",
        with_google_fonts=False,
    )
    return {
        DOCS_PATH: _page(
            swagger,
            _policy(
                "default-src 'none'",
                f"script-src {SWAGGER_CDN} {_script_hashes(swagger_html)}",
                # Swagger UI sets style attributes on its elements.
                f"style-src {SWAGGER_CDN} 'unsafe-inline'",
                f"img-src 'self' data: {SWAGGER_CDN}",
                "connect-src 'self'",
            ),
        ),
        OAUTH2_REDIRECT_PATH: _page(
            redirect,
            _policy("default-src 'none'", f"script-src {_script_hashes(bytes(redirect.body).decode())}"),
        ),
        REDOC_PATH: _page(
            redoc,
            _policy(
                "default-src 'none'",
                f"script-src {REDOC_CDN}",
                # ReDoc injects its styles as <style> elements and runs its search in a worker made from a blob.
                "style-src 'unsafe-inline'",
                f"img-src 'self' data: {SWAGGER_CDN}",
                "font-src data:",
                "worker-src blob:",
                "connect-src 'self'",
            ),
        ),
    }


def install_docs(app: FastAPI) -> None:
    """Serve the docs pages; the app is made with ``docs_url=None, redoc_url=None``."""
    pages = docs_pages(app.openapi_url or "/openapi.json", app.title)

    async def swagger_ui() -> HTMLResponse:
        return pages[DOCS_PATH].response()

    async def oauth2_redirect() -> HTMLResponse:
        return pages[OAUTH2_REDIRECT_PATH].response()

    async def redoc() -> HTMLResponse:
        return pages[REDOC_PATH].response()

    app.add_api_route(DOCS_PATH, swagger_ui, include_in_schema=False)
    app.add_api_route(OAUTH2_REDIRECT_PATH, oauth2_redirect, include_in_schema=False)
    app.add_api_route(REDOC_PATH, redoc, include_in_schema=False)
