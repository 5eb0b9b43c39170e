"""What a route can ask for, declared once as ``Annotated`` aliases.

A route's signature says what it needs and who may call it::

    from ictgov.web.deps import LangDep, OptionalUser, SessionDep, render, require

    @router.get("/stats/upload")
    def upload_form(request: Request, db: SessionDep,
                    user: Annotated[User, require("stats.import")]):
        return render(request, "stats/upload.html", {"areas": ...})

- ``SessionDep``: a SQLAlchemy Session for this request; committed when the route
  returns (before the response is sent), rolled back when it raises or when it renders
  a page with a 4xx/5xx status (a form shown again with its errors writes nothing).
- ``OptionalUser`` / ``CurrentUser``: the user of the signed session cookie, or of
  ``Authorization: Bearer <token>`` (then the cookie is ignored); ``CurrentUser``
  answers 401 (pages: redirect to /login?next=...) when there is none.
- ``require(perm, **scope)``: the user if ``permissions.can`` allows it, else 401 / 403.
  A scope value may be a callable taking the request
  (``require("dx.assess", enterprise_ref=lambda r: r.path_params["ref"])``). When the
  organisation is known only from the submitted data, call ``ensure(user, perm, ...)``.
- ``LangDep``: "vi" (default) or "en".
- ``SettingsDep``: the app's Settings.
- ``render(request, template, context, status_code=200)``: a page with ``user``,
  ``lang``, ``t``, ``csrf_token``/``csrf_field``, ``current_path``, ``lang_urls``,
  ``can(perm, **scope)``, and flashed ``messages``; templates also have the filters
  ``number`` (1.234,5 in Vietnamese), ``datetime`` (Vietnam time) and ``json``.
- ``flash(request, key, level, **kw)``: a message for the next page (after a redirect).

With ``from __future__ import annotations``, FastAPI resolves a route's annotations in
its module's globals: import ``Annotated``, ``User`` and ``require`` at module level.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from markupsafe import Markup, escape
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from ictgov import permissions
from ictgov.auth import User, token_digest, user_for_token
from ictgov.config import Settings
from ictgov.stats.figures import Figures
from ictgov.web import csrf, i18n
from ictgov.web.errors import Forbidden, LoginRequired

log = logging.getLogger("ictgov.web")

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"

SESSION_USER = "uid"
SESSION_STAMP = "stamp"
SESSION_FLASH = "flash"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


@pass_context
def _number_filter(ctx, value, digits: int | None = None) -> str:
    return i18n.format_number(value, ctx.get("lang", i18n.DEFAULT_LANG), digits)


@pass_context
def _datetime_filter(ctx, value) -> str:
    return i18n.format_datetime(value, ctx.get("lang", i18n.DEFAULT_LANG))


def _json_filter(value) -> str:
    """Readable JSON (Vietnamese as is, not as \\u escapes); autoescaped like any text."""
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True, default=str)


templates.env.filters["number"] = _number_filter
templates.env.filters["json"] = _json_filter
templates.env.filters["datetime"] = _datetime_filter


# --- settings and database -------------------------------------------------------------


# Dependencies that do no blocking work are `async def`: FastAPI runs a plain `def` dependency
# in the threadpool, a hop (and a wait for a free thread under load) for nothing.
async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def get_db(request: Request) -> Iterator[Session]:
    """One unit of work per request: commit on success, roll back on error or error page."""
    session: Session = request.app.state.sessionmaker()
    request.state.db = session
    try:
        yield session
        if getattr(request.state, "rollback_only", False):
            session.rollback()
        else:
            session.commit()
    except BaseException:
        # Detach first: a rollback would expire the loaded objects, and the error page
        # still shows the user's name in its header.
        session.expunge_all()
        session.rollback()
        raise
    finally:
        session.close()
        request.state.db = None


# scope="function": the commit happens before the response is sent, so a client is never
# told "done" about a write that then failed.
SessionDep = Annotated[Session, Depends(get_db, scope="function")]


# --- who is asking ------------------------------------------------------------------------


def session_stamp(user: User) -> str:
    """Ties a login session to the password: changing the password ends every session."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def load_user(request: Request, db: Session) -> User | None:
    """The user of this request (cached on request.state); a bad Bearer token is a 401."""
    if hasattr(request.state, "user"):
        return request.state.user
    token = bearer_token(request)
    user: User | None
    if token is not None:
        user = user_for_token(db, token) if token else None
        if user is None:
            raise LoginRequired("error.401")
        request.state.auth = "token"
    else:
        user = None
        uid = request.session.get(SESSION_USER)
        if isinstance(uid, int):
            user = db.get(User, uid)
            if user is not None and (
                not user.is_active or request.session.get(SESSION_STAMP) != session_stamp(user)
            ):
                # Deactivated, or the password changed since this session began.
                request.session.pop(SESSION_USER, None)
                request.session.pop(SESSION_STAMP, None)
                user = None
        request.state.auth = "session" if user is not None else None
    request.state.user = user
    return user


def _user_apart(request: Request) -> User | None:
    if hasattr(request.state, "user"):
        return request.state.user
    with request.app.state.sessionmaker() as db:
        user = load_user(request, db)
        db.commit()  # a token's use, written once a minute
    return user


def safe_user(request: Request) -> User | None:
    """The user for a page header when the route did not ask for it (never raises)."""
    if hasattr(request.state, "user"):
        return request.state.user
    try:
        db = getattr(request.state, "db", None)
        return load_user(request, db) if db is not None else _user_apart(request)
    except Exception:  # noqa: BLE001 - a page header must not fail because of the database
        return None


def get_optional_user(request: Request, db: SessionDep) -> User | None:
    return load_user(request, db)


OptionalUser = Annotated[User | None, Depends(get_optional_user)]


async def get_current_user(user: OptionalUser) -> User:
    if user is None:
        raise LoginRequired()
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def ensure(user: User | None, perm: str, **scope: str | None) -> User | None:
    """Raise 401 (not logged in) or 403 unless ``user`` holds ``perm`` for ``scope``."""
    if permissions.can(user, perm, **scope):
        return user
    if user is None:
        raise LoginRequired()
    raise Forbidden(perm)


def require(perm: str, **scope: str | Callable[[Request], str | None] | None) -> Any:
    """A dependency: the user when the policy allows ``perm`` (for ``scope``), else 401/403.

    Use as ``user: Annotated[User, require("users.manage")]`` or in
    ``dependencies=[require(...)]``. For a public permission the user may be None.
    """
    permissions.get(perm)  # an unknown name fails when the route module is imported
    unknown = set(scope) - set(permissions.SCOPE_FIELDS)
    if unknown:
        raise ValueError(f"require({perm!r}): unknown scope {sorted(unknown)}")

    async def dependency(request: Request, user: OptionalUser) -> User | None:
        values = {k: (v(request) if callable(v) else v) for k, v in scope.items()}
        return ensure(user, perm, **values)

    dependency.__name__ = f"require_{perm.replace('.', '_')}"
    return Depends(dependency)


# A partner's gateway posts hundreds of reports a second with one API token. Each request
# read the token and its user from the database, in a thread of the pool: about a tenth of
# the server's CPU per report. A token found valid is trusted again for this long by the same
# process without reading it; revoking a token or deactivating its user takes effect at once
# in the process that did it (`forget_tokens`), and within this time in the others.
TOKEN_TRUST_SECONDS = 1.0


def _token_users(app) -> dict[str, tuple[float, User]]:
    cache = getattr(app.state, "token_users", None)
    if cache is None:
        cache = app.state.token_users = {}
    return cache


def forget_tokens(app) -> None:
    """Forget the tokens trusted by this process (a token revoked, a user changed)."""
    _token_users(app).clear()


def require_apart(perm: str) -> Any:
    """Like `require`, but the user is read in a session of its own, closed before the route
    runs. For routes that hand their work to another thread (the intake writer) and wait: a
    request session held open meanwhile would keep a pooled connection from that thread, and
    enough waiting requests would take them all. A token read less than
    `TOKEN_TRUST_SECONDS` ago is not read again."""
    permissions.get(perm)

    async def dependency(request: Request) -> User | None:
        token = bearer_token(request)
        digest = token_digest(token) if token else None
        trusted = _token_users(request.app).get(digest) if digest else None
        if trusted is not None and time.monotonic() - trusted[0] <= TOKEN_TRUST_SECONDS:
            user = request.state.user = trusted[1]
            request.state.auth = "token"
        else:
            user = await run_in_threadpool(_user_apart, request)  # a bad token is a 401 there
            if digest and user is not None:
                _token_users(request.app)[digest] = (time.monotonic(), user)
        return ensure(user, perm)

    dependency.__name__ = f"require_{perm.replace('.', '_')}_apart"
    return Depends(dependency)


# --- forms -------------------------------------------------------------------------------


async def parsed_form(request: Request) -> FormData:
    """The request's form, read on the event loop (cached: the CSRF check reads the same)."""
    return await request.form()


# A route that takes the form this way can be a plain `def`: its database and file work then
# runs in the threadpool instead of blocking the event loop (and every other request).
FormDep = Annotated[FormData, Depends(parsed_form)]


# --- background jobs ----------------------------------------------------------------------


def accepted(info) -> JSONResponse:
    """202 for an API call whose work went to a background job: where to follow it."""
    url = f"/api/jobs/{info.id}"
    return JSONResponse({"ok": True, "job": info.id, "name": info.name, "status": info.status,
                         "status_url": url}, status_code=202, headers={"Location": url})


# --- language -----------------------------------------------------------------------------


def get_lang(request: Request) -> str:
    return getattr(request.state, "lang", None) or i18n.DEFAULT_LANG


async def _lang_dep(request: Request) -> str:
    return get_lang(request)


LangDep = Annotated[str, Depends(_lang_dep)]


# --- pages --------------------------------------------------------------------------------


def flash(request: Request, key: str, level: str = "info", **kw: Any) -> None:
    """A message (i18n key) shown on the next page rendered for this session."""
    request.session.setdefault(SESSION_FLASH, [])
    request.session[SESSION_FLASH] = request.session[SESSION_FLASH] + [
        {"key": key, "level": level, "kw": {k: str(v) for k, v in kw.items()}}
    ]


_MISSING = object()


def _page_key(request: Request, params: dict[str, str] | None = None) -> tuple:
    """A kept page's key: its path, its parameters (but the language's), its language and the
    database it shows."""
    if params is None:
        given = request.query_params.multi_items()
        params = {k: v for k, v in given if k != "lang"}
        if len(params) + sum(1 for k, _ in given if k == "lang") != len(given):
            return ("page", request.url.path, "repeated parameters: never kept")
    return ("page", request.url.path, tuple(sorted(params.items())), get_lang(request),
            request.app.state.figures_key[0])


def _for_anyone(request: Request) -> bool:
    """Nobody signed in (no token, no user in the session) and no message waiting."""
    return (bearer_token(request) is None and SESSION_USER not in request.session
            and not request.session.get(SESSION_FLASH))


def render_shared(request: Request, template: str, context: Callable[[], dict[str, Any]],
                  keep: Callable[[Any, Callable[[], bytes]], bytes],
                  params: dict[str, str | None] | None = None) -> HTMLResponse:
    """A page that only shows published figures. A signed-in user (or a visitor with a message
    waiting) gets it rendered for them; every other visitor gets the same page for the same
    address and language, rendered once and kept by `keep` (`Figures.memo`: per revision of
    the data), from which `shared_page` serves it.

    `params` are the query parameters as the route understood them, in their canonical form
    (None: absent). A page is kept only when the request's parameters are exactly those, so
    addresses that differ only by junk or by spelling ("?kind=foo", "?area=Hà Nội" for
    "?area=01") are rendered but never fill the memory."""
    if not _for_anyone(request) or safe_user(request) is not None:
        return render(request, template, context())
    canonical = {k: v for k, v in (params or {}).items() if v is not None}
    if _page_key(request) != _page_key(request, canonical):
        return render(request, template, context(), for_anyone=True)
    body = keep(_page_key(request), lambda: bytes(render(request, template, context(), for_anyone=True).body))
    return HTMLResponse(body, headers={"Vary": "Cookie"})


async def shared_page(request: Request, build: Callable[[Request, Session], Response],
                      kept: Callable[[Any], bytes | None] | None = None, perm: str | None = None) -> Response:
    """Serve a page made with `render_shared`: for a visitor who is not signed in, the page
    kept for the current figures, on the event loop with no thread and no database query;
    else `build(request, session)` in the threadpool, with a unit of work like `SessionDep`'s.
    The page asks for a thread only when it has work to do: a busy dashboard then costs
    about what /healthz costs. `kept` looks a page up elsewhere than in the figures' memo
    (`web.kept.KeptPages.get`); `perm` is the permission the page needs, which the kept page
    is served on when a visitor who is not signed in holds it (`build` checks it otherwise)."""
    if _for_anyone(request) and (perm is None or permissions.can(None, perm)):
        if kept is None:
            fig = Figures.trusted(request.app.state.figures_key)
            body = fig.kept(_page_key(request)) if fig is not None else None
        else:
            body = kept(_page_key(request))
        if body is not None:
            return HTMLResponse(body, headers={"Vary": "Cookie"})
    return await run_in_threadpool(_in_unit_of_work, request, build)


def _in_unit_of_work(request: Request, build: Callable[[Request, Session], Response]) -> Response:
    gen = get_db(request)
    session = next(gen)
    try:
        response = build(request, session)
    except BaseException as exc:
        try:
            gen.throw(exc)
        except type(exc):
            pass
        raise
    try:
        next(gen)
    except StopIteration:
        pass
    return response


def render_content(request: Request, template: str, context: dict[str, Any]) -> Markup:
    """The `content` block of a page as any visitor sees it (no user, no token), in the
    request's language: for pages whose content is kept per revision of the data and put back
    into the page as `prerendered`."""
    lang = get_lang(request)
    tmpl = templates.env.get_template(template)
    ctx = {"lang": lang, "langs": i18n.LANGS, "t": i18n.translator(lang), "user": None,
           "can": lambda *_a, **_k: False, "csrf_token": "", "csrf_field": Markup(""), **context}
    return Markup("".join(tmpl.blocks["content"](tmpl.new_context(ctx))))


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    *,
    for_anyone: bool = False,
    query: str | None = None,
) -> HTMLResponse:
    """Render a page in the request's language, with everything the layout needs.

    `for_anyone`: the page as any visitor who is not signed in sees it — no user, no CSRF token,
    no message, the session untouched — with the language links built on `query`."""
    context = dict(context or {})
    lang = get_lang(request)
    user = context.pop("user", _MISSING)
    if for_anyone:
        user = None
    elif user is _MISSING:
        user = safe_user(request)
    tr = i18n.translator(lang)
    try:
        token = "" if for_anyone else csrf.get_token(request)
        flashed = [] if for_anyone else request.session.pop(SESSION_FLASH, [])
    except AssertionError:  # no session (an error raised outside the session middleware)
        token, flashed = "", []
    messages = [{"level": m.get("level", "info"), "text": tr(m["key"], **m.get("kw", {}))}
                for m in flashed if isinstance(m, dict) and "key" in m]
    query = request.url.query if query is None else query

    def can(perm: str, **scope: Any) -> bool:
        return permissions.can(user, perm, **scope)

    ctx = {
        "request": request,
        "user": user,
        "lang": lang,
        "langs": i18n.LANGS,
        "t": tr,
        "can": can,
        "csrf_token": token,
        "csrf_field": Markup('<input type="hidden" name="{}" value="{}">').format(
            csrf.FIELD, escape(token)),
        "current_path": request.url.path,
        "lang_urls": {code: i18n.switch_url(request.url.path, query, code) for code in i18n.LANGS},
        "messages": messages,
    }
    ctx.update(context)
    if status_code >= 400:
        request.state.rollback_only = True
    response = templates.TemplateResponse(request, template, ctx, status_code=status_code,
                                          headers=headers)
    response.headers.setdefault("Vary", "Cookie")
    if user is not None:
        # Pages for a logged-in user carry personal data and a CSRF token: never cache them.
        response.headers["Cache-Control"] = "no-store"
    return response
