"""Log in, log out, who am I.

Login failures are limited per username and client address (`LoginLimiter`), so a
password cannot be guessed faster than 10 tries per 15 minutes from one address.
Behind a reverse proxy, run uvicorn with ``--proxy-headers`` so the client address is
the caller's, not the proxy's.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from ictgov import permissions
from ictgov.auth import authenticate, user_public_dict
from ictgov.web import csrf, i18n
from ictgov.web.deps import (
    SESSION_STAMP,
    SESSION_USER,
    CurrentUser,
    OptionalUser,
    SessionDep,
    flash,
    get_lang,
    render,
    session_stamp,
)
from ictgov.web.errors import safe_next

log = logging.getLogger("ictgov.web")

router = APIRouter(tags=["auth"])


# The per-address counter is kept under this pseudo-username (a real one with a NUL in it
# would only share that counter, which is harmless).
_ANY_USER = "\0any"


class LoginLimiter:
    """Failed logins in a sliding window, in memory, per process.

    Two limits: per (username, address), so one account cannot be guessed at; and per
    address over all usernames, so one address cannot try a common password on many
    accounts. A successful login clears the first, not the second.
    """

    def __init__(self, max_failures: int = 10, window_seconds: float = 15 * 60,
                 max_failures_per_address: int = 100, max_keys: int = 100_000) -> None:
        self.max_failures = max_failures
        self.max_failures_per_address = max_failures_per_address
        self.window = window_seconds
        self.max_keys = max_keys
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def _wait(self, key: tuple[str, str], limit: int, now: float) -> float:
        times = self._recent(key, now)
        if len(times) < limit:
            return 0.0
        return max(0.0, times[-limit] + self.window - now)

    def retry_after(self, key: tuple[str, str], now: float | None = None) -> float:
        """Seconds until (username, address) may try again; 0 when it may now."""
        now = time.monotonic() if now is None else now
        with self._lock:
            return max(self._wait(key, self.max_failures, now),
                       self._wait((_ANY_USER, key[1]), self.max_failures_per_address, now))

    def failed(self, key: tuple[str, str], now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            for k in (key, (_ANY_USER, key[1])):
                if k not in self._failures and len(self._failures) >= self.max_keys:
                    # Bounded memory under a flood of usernames: forget the oldest key.
                    self._failures.pop(next(iter(self._failures)))
                self._failures.setdefault(k, deque()).append(now)

    def succeeded(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._failures.pop(key, None)


def _limiter(request: Request) -> LoginLimiter:
    limiter = getattr(request.app.state, "login_limiter", None)
    if limiter is None:
        limiter = request.app.state.login_limiter = LoginLimiter()
    return limiter


def _login_page(request: Request, *, next_url: str, username: str = "", error: str | None = None,
                error_kw: dict | None = None, status_code: int = 200,
                headers: dict | None = None) -> Response:
    text = i18n.t(error, get_lang(request), **(error_kw or {})) if error else None
    return render(request, "login.html",
                  {"next": next_url, "username": username, "error": text},
                  status_code=status_code, headers=headers)


@router.get("/login")
def login_form(request: Request, user: OptionalUser, next: str = "/") -> Response:
    next_url = safe_next(next)
    if user is not None:
        return RedirectResponse(next_url, status_code=303)
    return _login_page(request, next_url=next_url)


@router.post("/login")
def login(
    request: Request,
    db: SessionDep,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    next_url = safe_next(next)
    username = username.strip()
    if not username or not password:
        return _login_page(request, next_url=next_url, username=username,
                           error="login.required", status_code=400)
    limiter = _limiter(request)
    key = (username.casefold(), request.client.host if request.client else "")
    wait = limiter.retry_after(key)
    if wait > 0:
        minutes = max(1, math.ceil(wait / 60))
        return _login_page(request, next_url=next_url, username=username,
                           error="login.rate_limited", error_kw={"minutes": minutes},
                           status_code=429,
                           headers={"Retry-After": str(math.ceil(wait))})
    user = authenticate(db, username, password)
    if user is None:
        limiter.failed(key)
        log.info("login failed")
        return _login_page(request, next_url=next_url, username=username,
                           error="login.invalid", status_code=400)
    limiter.succeeded(key)
    # A new session: nothing from before the login (a planted CSRF token) carries over.
    request.session.clear()
    request.session[SESSION_USER] = user.id
    request.session[SESSION_STAMP] = session_stamp(user)
    csrf.rotate(request)
    log.info("login ok user_id=%s", user.id)
    return RedirectResponse(next_url, status_code=303)


@router.post("/logout")
def logout(request: Request) -> Response:
    request.session.clear()
    flash(request, "login.logged_out")
    return RedirectResponse("/", status_code=303)


@router.get("/api/me")
def me(user: CurrentUser) -> dict:
    """Who the caller is: account, role, the organisation it acts for, its permissions."""
    data = user_public_dict(user)
    data.update({
        "id": user.id,
        "full_name": user.full_name,
        "lang": user.lang,
        "permissions": permissions.permissions_of(user),
    })
    return data
