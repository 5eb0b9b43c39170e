"""The application factory: ``ictgov serve`` runs ``create_app`` with uvicorn.

Middleware, outermost first: metrics -> security headers -> language -> session
(signed cookie) -> FastAPI's exception handlers -> routes. Every route carries the
CSRF dependency (``dependencies=[csrf_protect]`` on the app), whichever router it
comes from.
"""

from __future__ import annotations

import logging

from fastapi import Depends, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

import ictgov
from ictgov.config import Settings, get_settings
from ictgov.db import get_engine, session_factory
from ictgov.web import errors, routes
from ictgov.web.csrf import csrf_protect
from ictgov.web.deps import STATIC_DIR
from ictgov.web.i18n import LanguageMiddleware
from ictgov.web.routes.auth import LoginLimiter
from ictgov.web.routes.ops import MetricsMiddleware

log = logging.getLogger("ictgov.web")

SESSION_COOKIE = "ictgov_session"

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]


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


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = get_engine(settings.resolved_database_url())
    # Secure cookies behind HTTPS: set ICTGOV_COOKIE_SECURE=true once Settings has the field.
    secure = bool(getattr(settings, "cookie_secure", False))

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
    app.state.login_limiter = LoginLimiter()

    errors.install(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in routes.load():
        app.include_router(router)

    @app.get("/docs", include_in_schema=False)
    def swagger_ui():
        return get_swagger_ui_html(
            openapi_url=app.openapi_url, title="ictgov API",
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )

    # add_middleware wraps: the last added is the outermost.
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.resolved_secret_key(),
        session_cookie=SESSION_COOKIE,
        max_age=settings.session_max_age,
        same_site="lax",
        https_only=secure,
    )
    app.add_middleware(LanguageMiddleware, default=settings.default_lang, secure=secure)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(MetricsMiddleware)
    return app
