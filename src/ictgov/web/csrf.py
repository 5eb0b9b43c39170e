"""CSRF protection for every state-changing request, applied app-wide.

`create_app` installs `csrf_protect` as a dependency of the whole application, so every
route, in every router, has it: there is nothing to remember per route. It lets through:

- safe methods (GET, HEAD, OPTIONS, TRACE);
- requests authenticated by ``Authorization: Bearer <token>``: a browser never adds
  that header to a cross-site request, and such a request is authenticated by the token
  alone, never by the session cookie (see ``deps.load_user``);
- endpoints marked ``@csrf_exempt`` (a machine-to-machine webhook that takes no cookie
  authority; none exist yet).

Everything else must send the session's token as the form field ``csrf_token`` or the
header ``X-CSRF-Token`` (htmx sends the header: ``hx-headers`` on <body>). Templates get
the token as ``csrf_token`` and a ready hidden input as ``csrf_field``.

The form is read with ``request.form()``, which Starlette caches on the request, so the
route still gets its form fields and files (FastAPI reads the form before it solves
dependencies, and hands dependencies the same Request).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from typing import TypeVar

from fastapi import Request

from ictgov.web.errors import CSRFError

SESSION_KEY = "csrf"
FIELD = "csrf_token"
HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

F = TypeVar("F", bound=Callable)


def csrf_exempt(endpoint: F) -> F:
    """Mark an endpoint that takes no cookie authority, so it needs no CSRF token."""
    endpoint.csrf_exempt = True  # type: ignore[attr-defined]
    return endpoint


def get_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get(SESSION_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[SESSION_KEY] = token
    return token


def rotate(request: Request) -> str:
    """A fresh token (after login), so one seen before authentication is worth nothing."""
    request.session[SESSION_KEY] = token = secrets.token_urlsafe(32)
    return token


def has_bearer(request: Request) -> bool:
    scheme, _, _ = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer"


async def csrf_protect(request: Request) -> None:
    """App-wide dependency: refuse an unsafe cookie-session request without the right token."""
    if request.method in SAFE_METHODS or has_bearer(request):
        return
    route = request.scope.get("route")
    if getattr(getattr(route, "endpoint", None), "csrf_exempt", False):
        return
    expected = request.session.get(SESSION_KEY)
    sent = request.headers.get(HEADER)
    if not sent and request.headers.get("content-type", "").startswith(FORM_TYPES):
        form = await request.form()
        value = form.get(FIELD)
        sent = value if isinstance(value, str) else None
    if not expected or not sent or not hmac.compare_digest(str(expected), sent):
        raise CSRFError()
