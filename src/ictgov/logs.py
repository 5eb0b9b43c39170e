"""Logs: one JSON object per line, a request id on every line, no personal data.

- `RequestIdMiddleware` gives every HTTP request an id (the caller's ``X-Request-ID`` when it
  is a plain token, else a new one), returns it in the response header, makes it available
  to every log line written while the request is served, and writes one access line per
  request: method, route template (never the raw path or query string, where receipts,
  numbers and search terms travel), status and duration.
- `PersonalDataFilter` masks what slips through anyway: e-mail addresses and Vietnamese
  phone numbers in a message or its arguments become ``n***@domain`` / ``091****78``.
- `configure` installs both for the `ictgov` command and uvicorn (``ictgov serve``).
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from ictgov.text import extract_phones

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Runs of digits long enough to be a subscriber number, however they are written.
_DIGIT_RUN = re.compile(r"(?:\+?\d[\d .()-]{7,18}\d)")
access = logging.getLogger("ictgov.access")


def mask_email(m: re.Match) -> str:
    name, _, domain = m.group(0).partition("@")
    return f"{name[:1]}***@{domain}"


def scrub(text: str) -> str:
    """`text` with e-mail addresses and phone numbers masked."""
    if not text:
        return text
    text = _EMAIL.sub(mask_email, text)
    if any(c.isdigit() for c in text):
        def phone(m: re.Match) -> str:
            run = m.group(0)
            if not extract_phones(run):
                return run  # an amount, a date, an id: not a number someone answers
            digits = re.sub(r"\D", "", run)
            return digits[:3] + "****" + digits[-2:]

        text = _DIGIT_RUN.sub(phone, text)
    return text


class PersonalDataFilter(logging.Filter):
    """Masks personal data in every record that passes (attach it to handlers)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string must not lose the record
            message = str(record.msg)
        record.msg, record.args = scrub(message), ()
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    FIELDS = ("method", "route", "status", "ms", "event")

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        rid = getattr(record, "request_id", None) or request_id.get()
        if rid:
            out["request_id"] = rid
        for f in self.FIELDS:
            if hasattr(record, f):
                out[f] = getattr(record, f)
        if record.exc_info:
            out["exc"] = scrub(self.formatException(record.exc_info))
        return json.dumps(out, ensure_ascii=False)


def handler(stream=None, json_lines: bool = True) -> logging.Handler:
    h = logging.StreamHandler(stream or sys.stderr)
    h.setFormatter(JsonFormatter() if json_lines else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s"))
    h.addFilter(PersonalDataFilter())
    return h


def configure(level: str = "INFO", json_lines: bool = True, stream=None) -> None:
    """Route the platform's and uvicorn's logs through one scrubbing handler."""
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler(stream, json_lines))
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        lg = logging.getLogger(name)
        lg.handlers, lg.propagate = [], True
    # our access line replaces uvicorn's, which prints raw paths and query strings
    logging.getLogger("uvicorn.access").disabled = True


class RequestIdMiddleware:
    """Pure ASGI: a request id for every request, in the response and on every log line."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        rid = given if _VALID_ID.match(given) else uuid.uuid4().hex
        token = request_id.set(rid)
        status = 500
        start = time.perf_counter()

        async def send_with_id(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            from ictgov.web.routes.ops import route_label

            access.info("request", extra={
                "event": "request", "method": scope.get("method"), "route": route_label(scope),
                "status": status, "ms": round((time.perf_counter() - start) * 1000, 1)})
            request_id.reset(token)
