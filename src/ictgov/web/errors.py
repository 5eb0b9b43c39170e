"""Errors answer with a clear message and a 4xx, as JSON for APIs and a page for people.

- ``RequestValidationError`` -> 422, each field with its message;
- ``HTTPException(422, "field: message")`` -> the same 422 shape for an API (a list of
  fields), so a client reads every 422 one way and it matches the OpenAPI schema;
- ``HTTPException`` (404, 405, 403 ...) -> its status; a ``detail`` that is an i18n key
  is translated (``raise HTTPException(404, "admin.users.not_found")``);
- ``LoginRequired`` -> a page request is sent to ``/login?next=...``; an API gets 401;
- anything unexpected -> a plain 500 page or JSON, the traceback only in the log.

A request is an API request when its path starts with ``/api/``, it carries a Bearer
token, or it asks for JSON and not HTML.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ictgov.web import i18n

log = logging.getLogger("ictgov.web")


class LoginRequired(HTTPException):
    """Not logged in (or a bad API token): 401, or a redirect to the login page."""

    def __init__(self, detail: str = "error.401") -> None:
        super().__init__(status_code=401, detail=detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(HTTPException):
    """Logged in, but the policy does not allow it: 403."""

    def __init__(self, permission: str | None = None, detail: str = "error.403") -> None:
        super().__init__(status_code=403, detail=detail)
        self.permission = permission


class CSRFError(HTTPException):
    """A state-changing form or request without the session's CSRF token: 403."""

    def __init__(self) -> None:
        super().__init__(status_code=403, detail="error.csrf")


def is_api(request: Request) -> bool:
    if request.url.path.startswith("/api/"):
        return True
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def message(detail: Any, status: int, lang: str) -> str:
    """A detail that is a message key, translated; else the standard text for the status."""
    if isinstance(detail, str) and i18n.has(detail):
        return i18n.t(detail, lang)
    key = f"error.{status}"
    return i18n.t(key if i18n.has(key) else "error.other", lang)


def _extra_detail(detail: Any, status: int) -> str | None:
    """A free-text detail worth showing under the standard message.

    Not a message key (already shown translated) and not the bare HTTP phrase that
    Starlette puts in its own errors ("Not Found"), which would only repeat the title in
    English.
    """
    if not isinstance(detail, str) or not detail or i18n.has(detail):
        return None
    try:
        if detail == HTTPStatus(status).phrase:
            return None
    except ValueError:
        pass
    return detail


def safe_next(value: str | None, default: str = "/") -> str:
    """Only a path on this site: no scheme, no host, no protocol-relative URL."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    if any(c in value for c in "\r\n"):
        return default
    return value


def login_redirect(request: Request) -> Response:
    nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target = "/login"
    if request.method in ("GET", "HEAD") and safe_next(nxt, "") not in ("", "/"):
        target += "?next=" + quote(nxt, safe="/")
    if request.headers.get("hx-request"):
        # htmx follows HX-Redirect with a full page load instead of swapping a fragment.
        return Response(status_code=401, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def _lang(request: Request) -> str:
    return getattr(request.state, "lang", i18n.DEFAULT_LANG)


def _page(request: Request, status: int, text: str, *, detail: str | None = None,
          fields: list[dict] | None = None, headers: dict | None = None,
          with_user: bool = True) -> Response:
    from ictgov.web.deps import render, safe_user

    ctx = {"status": status, "message": text, "detail": detail, "fields": fields or []}
    if not with_user:
        ctx["user"] = None
    else:
        ctx["user"] = safe_user(request)
    response = render(request, "error.html", ctx, status_code=status)
    for k, v in (headers or {}).items():
        response.headers[k] = v
    return response


async def http_exception_handler(request: Request, exc: StarletteHTTPException) -> Response:
    lang = _lang(request)
    if isinstance(exc, LoginRequired) and not is_api(request):
        return login_redirect(request)
    text = message(exc.detail, exc.status_code, lang)
    if is_api(request) and exc.status_code == 422 and isinstance(exc.detail, str):
        return JSONResponse({"detail": [_field_from_text(exc.detail)]}, status_code=422,
                            headers=exc.headers)
    if is_api(request):
        body: dict[str, Any] = {"detail": message(exc.detail, exc.status_code, "en")}
        if isinstance(exc.detail, str) and i18n.has(exc.detail):
            body["code"] = exc.detail
        elif exc.detail is not None and exc.detail != body["detail"]:
            body["detail"] = exc.detail
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)
    return _page(request, exc.status_code, text, detail=_extra_detail(exc.detail, exc.status_code),
                 headers=exc.headers)


def _field_name(loc: tuple | list) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie", "form"):
        parts = parts[1:]
    return ".".join(parts) or "request"


def _field_from_text(detail: str) -> dict[str, Any]:
    """ "level: must be province or region" -> the field entry of a validation error."""
    text = i18n.t(detail, "en") if i18n.has(detail) else detail
    name, sep, rest = text.partition(": ")
    if sep and name and " " not in name.strip():
        field, msg = name.strip(), rest
    else:
        field, msg = "request", text
    return {"loc": [field], "field": field, "location": "", "msg": msg, "type": "value_error"}


def field_errors_response(errors: dict[str, str], location: str = "body") -> JSONResponse:
    """422 for an API whose domain checked the input itself ({field: message}), in the shape
    of every other 422 (FastAPI's, plus the readable field name)."""
    return JSONResponse({"detail": [
        {"loc": [location, *field.split(".")], "field": field, "location": location, "msg": msg,
         "type": "value_error"} for field, msg in errors.items()]}, status_code=422)


async def validation_exception_handler(request: Request, exc: RequestValidationError) -> Response:
    fields = []
    for err in exc.errors():
        loc = list(err.get("loc", ()))
        fields.append({
            "loc": loc,
            "field": _field_name(loc),
            "location": str(loc[0]) if loc else "",
            "msg": err.get("msg", ""),
            "type": err.get("type", ""),
        })
    if is_api(request):
        # FastAPI's shape ({"detail": [{"loc", "msg", "type"}]}) plus a readable field name.
        return JSONResponse({"detail": fields}, status_code=422)
    return _page(request, 422, i18n.t("error.422", _lang(request)), fields=fields)


async def unexpected_exception_handler(request: Request, exc: Exception) -> Response:
    # The traceback goes to the log only; the request's query and body are not logged
    # because they may carry personal data.
    log.error("unhandled %s on %s %s", type(exc).__name__, request.method,
              request.scope.get("route").path if request.scope.get("route") else "<unmatched>",
              exc_info=exc)
    lang = _lang(request)
    if is_api(request):
        return JSONResponse({"detail": i18n.t("error.500", "en")}, status_code=500)
    try:
        return _page(request, 500, i18n.t("error.500", lang), with_user=False)
    except Exception:  # the error page itself failed: plain text, still no traceback
        log.exception("error page failed")
        return Response(i18n.t("error.500", lang), status_code=500, media_type="text/plain")


def install(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, http_exception_handler)
    app.add_exception_handler(RequestValidationError, validation_exception_handler)
    app.add_exception_handler(Exception, unexpected_exception_handler)
