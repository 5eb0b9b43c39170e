"""The application factory: ``ictgov serve`` runs ``create_app`` with uvicorn.

Middleware, outermost first: request id (and the access log line) -> metrics -> security headers -> language -> session
(signed cookie) -> FastAPI's exception handlers -> routes. Every route carries the
CSRF dependency (``dependencies=[csrf_protect]`` on the app), whichever router it
comes from.
"""

from __future__ import annotations

import os

import logging

from fastapi import Depends, FastAPI
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

import ictgov
from ictgov.config import Settings, get_settings
from ictgov.db import get_engine, session_factory
from ictgov.logs import RequestIdMiddleware
from ictgov.stats.figures import figures_key
from ictgov.web import errors, routes
from ictgov.web.csrf import csrf_protect
from ictgov.web.deps import STATIC_DIR
from ictgov.web.i18n import LanguageMiddleware
from ictgov.web.routes.auth import LoginLimiter
from ictgov.web.routes.ops import REPORTS_COLLECTOR, MetricsMiddleware

log = logging.getLogger("ictgov.web")

SWAGGER_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ictgov API</title>
<link rel="icon" href="/static/favicon.svg">
<link rel="stylesheet" href="/static/vendor/swagger-ui/swagger-ui.css"></head>
<body><div id="swagger-ui" data-openapi="{openapi}"></div>
<script src="/static/vendor/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/static/swagger-init.js"></script></body></html>
"""

SESSION_COOKIE = "ictgov_session"

# Scripts only from our own files: no inline script, no eval (charts use Vega's interpreter,
# /docs its own init file). Inline styles stay allowed: Vega and htmx set element styles.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
       "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")

SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]


class ForwardedProtoMiddleware:
    """Pure ASGI, only when the proxy is trusted (ICTGOV_TRUST_PROXY): the scheme the client
    used, from the proxy's X-Forwarded-Proto, so cookies know they travel over TLS."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            proto = dict(scope.get("headers") or []).get(b"x-forwarded-proto", b"").decode("latin-1")
            proto = proto.split(",")[0].strip().lower()
            if proto in ("http", "https"):
                scope = {**scope, "scheme": proto}
        await self.app(scope, receive, send)


class SessionBySchemeMiddleware:
    """The signed session cookie, marked Secure when the request came over HTTPS (or always,
    with ICTGOV_COOKIE_SECURE), so a cookie given over TLS is never sent back in clear."""

    def __init__(self, app, secure_always: bool = False, **options) -> None:
        self.plain = SessionMiddleware(app, https_only=secure_always, **options)
        self.secure = SessionMiddleware(app, https_only=True, **options)

    async def __call__(self, scope, receive, send) -> None:
        over_tls = scope.get("scheme") in ("https", "wss")
        await (self.secure if over_tls else self.plain)(scope, receive, send)


class SecurityHeadersMiddleware:
    """Pure ASGI: headers every response carries (no sniffing, no framing, no referrer leak)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in SECURITY_HEADERS if k not in present
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


API_SCHEMA_PATHS = ("/api/", "/healthz", "/readyz", "/metrics")


def _in_api_schema(path: str) -> bool:
    return path.startswith(API_SCHEMA_PATHS)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    if os.environ.get("ICTGOV_SERVE_LOGS"):  # a worker process of `ictgov serve --workers N`
        from ictgov.logs import configure

        configure(json_lines=os.environ["ICTGOV_SERVE_LOGS"] == "json")
    # The bundled frameworks are read now, not on a first assessment: a broken file stops the
    # start (FrameworkError lists every problem, file and line) instead of a page failing later.
    from ictgov.dx.framework import bundled

    bundled()
    engine = get_engine(settings.resolved_database_url())
    # Secure cookies: always with ICTGOV_COOKIE_SECURE, else for requests that came over
    # HTTPS (as the trusted proxy says with ICTGOV_TRUST_PROXY, or as uvicorn saw it).
    secure = settings.cookie_secure

    app = FastAPI(
        title="ictgov",
        version=getattr(ictgov, "__version__", "0"),
        description="Open platform for a national ICT ministry.",
        dependencies=[Depends(csrf_protect)],
        redoc_url=None,
        docs_url=None,  # served below from the vendored Swagger UI, not a CDN
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = session_factory(engine)
    app.state.figures_key = figures_key(engine)
    app.state.login_limiter = LoginLimiter()
    REPORTS_COLLECTOR.engine = engine

    errors.install(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in routes.load():
        for route in router.routes:
            # The OpenAPI documents the machine interface (/api/..., health, metrics); the
            # HTML pages and their forms are for people and are tested as pages.
            if isinstance(route, APIRoute) and not _in_api_schema(route.path):
                route.include_in_schema = False
        app.include_router(router)

    @app.get("/docs", include_in_schema=False)
    def swagger_ui():
        # FastAPI's page starts Swagger UI from an inline script, which the CSP refuses;
        # this one loads the same bundle and starts it from /static/swagger-init.js.
        return HTMLResponse(SWAGGER_PAGE.format(openapi=app.openapi_url))

    # add_middleware wraps: the last added is the outermost.
    app.add_middleware(
        SessionBySchemeMiddleware,
        secret_key=settings.resolved_secret_key(),
        session_cookie=SESSION_COOKIE,
        max_age=settings.session_max_age,
        same_site="lax",
        secure_always=secure,
    )
    app.add_middleware(LanguageMiddleware, default=settings.default_lang, secure=secure)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(MetricsMiddleware)
    if settings.trust_proxy:
        app.add_middleware(ForwardedProtoMiddleware)
    app.add_middleware(RequestIdMiddleware)  # outermost: every log line of a request has its id
    return app
