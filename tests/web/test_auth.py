"""Login, sessions, CSRF, API tokens, the permission policy, i18n and error pages."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import pytest
from fastapi import APIRouter, Request
from fastapi.testclient import TestClient
from sqlalchemy import select

from ictgov import permissions
from ictgov.auth import ApiToken, Role, User, issue_token
from ictgov.db import session_scope
from ictgov.permissions import can, scope_of
from ictgov.web import i18n
from ictgov.web.csrf import csrf_exempt
from ictgov.web.deps import CurrentUser, require

from .conftest import ANY_PAGE, PASSWORD, csrf_token, login

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "ictgov" / "web" / "templates"


def token_for(engine, username: str, name: str = "test") -> str:
    with session_scope(engine) as s:
        user = s.scalar(select(User).where(User.username == username))
        return issue_token(s, user, name)


# --- login and logout ------------------------------------------------------------------


def test_login_page_is_vietnamese_with_a_csrf_field(client):
    r = client.get("/login")
    assert r.status_code == 200
    assert '<html lang="vi">' in r.text
    assert "Đăng nhập" in r.text and "Bộ Thông tin và Truyền thông" in r.text
    assert 'name="csrf_token"' in r.text


def test_login_success_redirects_to_next_and_session_knows_the_user(client, make_user):
    make_user("lan", "analyst", full_name="Trần Thị Lan")
    r = login(client, "lan", next="/api/me")
    assert r.status_code == 303 and r.headers["location"] == "/api/me"
    me = client.get("/api/me").json()
    assert me["username"] == "lan" and me["role"] == "analyst"
    assert "stats.import" in me["permissions"] and "users.manage" not in me["permissions"]
    home = client.get(ANY_PAGE)
    assert "Trần Thị Lan" in home.text
    assert home.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("username,password", [("lan", "wrong-password"), ("nobody", PASSWORD)])
def test_login_failure_shows_the_error_in_the_form(client, make_user, username, password):
    make_user("lan")
    r = login(client, username, password)
    assert r.status_code == 400
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in r.text
    assert f'value="{username}"' in r.text  # the username is kept, the password is not
    assert password not in r.text
    assert client.get("/api/me").status_code == 401


def test_login_failure_in_english(client, make_user):
    make_user("lan")
    client.get("/login?lang=en")
    r = login(client, "lan", "wrong-password")
    assert r.status_code == 400 and "Wrong username or password." in r.text


def test_login_with_empty_fields_is_a_form_error_not_a_crash(client):
    token = csrf_token(client)
    r = client.post("/login", data={"csrf_token": token})
    assert r.status_code == 400 and "Hãy nhập tên đăng nhập và mật khẩu." in r.text


def test_login_of_a_deactivated_user_fails(client, make_user, engine):
    uid = make_user("old")
    with session_scope(engine) as s:
        s.get(User, uid).is_active = False
    assert login(client, "old").status_code == 400


@pytest.mark.parametrize("nxt", ["//evil.example/x", "https://evil.example/", "/\\evil.example"])
def test_login_next_never_leaves_the_site(client, make_user, nxt):
    make_user("lan")
    r = login(client, "lan", next=nxt)
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_login_is_rate_limited_per_username_and_address(client, make_user):
    make_user("lan")
    for _ in range(10):
        assert login(client, "lan", "wrong-password").status_code == 400
    r = login(client, "lan", PASSWORD)  # even the right password waits
    assert r.status_code == 429
    assert "Đăng nhập sai quá nhiều lần" in r.text
    assert int(r.headers["retry-after"]) > 0
    # Another account from the same address is not locked out.
    make_user("binh")
    assert login(client, "binh").status_code == 303


def test_login_limiter_window_slides():
    from ictgov.web.routes.auth import LoginLimiter

    lim = LoginLimiter(max_failures=3, window_seconds=60)
    key = ("lan", "1.2.3.4")
    for t in (0, 10, 20):
        lim.failed(key, now=t)
    assert lim.retry_after(key, now=30) == pytest.approx(30)
    assert lim.retry_after(key, now=61) == 0  # the first failure left the window
    lim.succeeded(key)
    assert lim.retry_after(key, now=62) == 0


def test_login_limiter_caps_one_address_over_many_usernames():
    from ictgov.web.routes.auth import LoginLimiter

    lim = LoginLimiter(max_failures=3, window_seconds=60, max_failures_per_address=5)
    for i in range(5):
        lim.failed((f"user{i}", "1.2.3.4"), now=i)
    assert lim.retry_after(("someone-else", "1.2.3.4"), now=10) > 0
    assert lim.retry_after(("someone-else", "5.6.7.8"), now=10) == 0


def test_logout_ends_the_session(client, make_user):
    make_user("lan")
    login(client, "lan")
    assert client.get("/api/me").status_code == 200
    r = client.post("/logout", data={"csrf_token": csrf_token(client, ANY_PAGE)})
    assert r.status_code == 303
    assert client.get("/api/me").status_code == 401
    assert "Bạn đã đăng xuất." in client.get(ANY_PAGE).text


def test_a_deactivated_user_loses_its_session(client, make_user, engine):
    uid = make_user("lan")
    login(client, "lan")
    with session_scope(engine) as s:
        s.get(User, uid).is_active = False
    assert client.get("/api/me").status_code == 401


def test_login_never_logs_the_password(client, make_user, caplog):
    make_user("lan", email="lan@example.vn")
    with caplog.at_level(logging.DEBUG):
        login(client, "lan", "Secret-Pass-123")
        login(client, "lan")
    assert "Secret-Pass-123" not in caplog.text and PASSWORD not in caplog.text
    assert "lan@example.vn" not in caplog.text


# --- CSRF -----------------------------------------------------------------------------------


@pytest.fixture
def echo_app(app):
    """The app plus a JSON endpoint and an exempt webhook, to test CSRF on an API."""
    extra = APIRouter()

    @extra.post("/api/echo")
    def echo(request: Request, user: CurrentUser) -> dict:
        return {"user": user.username, "auth": request.state.auth}

    @extra.post("/hooks/ping")
    @csrf_exempt
    async def ping() -> dict:
        return {"pong": True}

    app.include_router(extra)
    return app


def test_csrf_missing_or_wrong_is_refused(admin_client):
    data = {"username": "x1", "password": PASSWORD, "role": "analyst"}
    r = admin_client.post("/admin/users", data=data)
    assert r.status_code == 403
    assert "CSRF" in r.text and "Hãy tải lại trang" in r.text
    r = admin_client.post("/admin/users", data={**data, "csrf_token": "forged"})
    assert r.status_code == 403
    r = admin_client.post("/admin/users", data={**data, "csrf_token": csrf_token(admin_client, ANY_PAGE)})
    assert r.status_code == 303


def test_csrf_token_in_header_is_accepted(admin_client):
    token = csrf_token(admin_client, ANY_PAGE)
    r = admin_client.post("/admin/users", headers={"X-CSRF-Token": token},
                          data={"username": "x2", "password": PASSWORD, "role": "analyst"})
    assert r.status_code == 303


def test_csrf_token_changes_at_login(client, make_user):
    make_user("lan")
    before = csrf_token(client)
    login(client, "lan")
    after = csrf_token(client, ANY_PAGE)
    assert before != after
    r = client.post("/logout", data={"csrf_token": before})
    assert r.status_code == 403


def test_login_itself_needs_the_csrf_token(client, make_user):
    make_user("lan")
    r = client.post("/login", data={"username": "lan", "password": PASSWORD})
    assert r.status_code == 403


def test_csrf_on_json_api_and_bearer_exemption(echo_app, make_user, engine):
    make_user("lan")
    token = token_for(engine, "lan")
    with TestClient(echo_app, follow_redirects=False) as c:
        login(c, "lan")
        r = c.post("/api/echo", json={})
        assert r.status_code == 403 and r.json()["code"] == "error.csrf"
        r = c.post("/api/echo", json={}, headers={"X-CSRF-Token": csrf_token(c, ANY_PAGE)})
        assert r.status_code == 200 and r.json()["auth"] == "session"
    with TestClient(echo_app) as c:  # no cookies at all: a machine with a token
        r = c.post("/api/echo", json={}, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and r.json() == {"user": "lan", "auth": "token"}
        assert c.post("/hooks/ping").json() == {"pong": True}


def test_every_state_changing_route_requires_csrf(app):
    """Whatever router a route comes from, an unsafe request without a token is refused."""
    from fastapi.routing import iter_route_contexts

    checked = 0
    with TestClient(app, follow_redirects=False) as c:
        c.get("/login")  # a session with a token, which the requests below do not send
        for rc in iter_route_contexts(app.routes):
            for method in sorted(getattr(rc.route, "methods", None) or ()):
                if method in ("GET", "HEAD", "OPTIONS"):
                    continue
                path = re.sub(r"\{[^}]+\}", "1", rc.path_format or rc.path)
                r = c.request(method, path, data={"x": "1"})
                assert r.status_code == 403, f"{method} {path} answered {r.status_code} without CSRF"
                checked += 1
    assert checked >= 5


# --- API tokens ----------------------------------------------------------------------


def test_bearer_token_authenticates_api_me(client, make_user, engine):
    make_user("bot", "analyst", full_name="Robot")
    token = token_for(engine, "bot")
    r = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    body = r.json()
    assert body["username"] == "bot" and body["role"] == "analyst"
    assert {"province_code", "operator_code", "enterprise_ref"} <= body.keys()
    assert "email" not in body and "password_hash" not in body
    with session_scope(engine) as s:
        assert s.scalar(select(ApiToken)).last_used_at is not None


def test_operator_token_reports_its_binding(client, make_user, engine):
    make_user("vtl", "operator", operator_code="VTL")
    token = token_for(engine, "vtl")
    body = client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert body["operator_code"] == "VTL" and body["permissions"] == ["antispam.dnc_check", "antispam.gateway",
                                                                  "antispam.operator"]


def test_bad_revoked_or_deactivated_tokens_are_401(client, make_user, engine):
    uid = make_user("bot")
    token = token_for(engine, "bot")
    r = client.get("/api/me", headers={"Authorization": "Bearer ictg_nope"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    # A bad token on a page is still a 401 (JSON), never a redirect to a login form.
    assert client.get("/admin/users", headers={"Authorization": "Bearer ictg_nope"}).status_code == 401
    with session_scope(engine) as s:
        s.get(User, uid).is_active = False
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_bearer_ignores_the_session_cookie(client, make_user, engine):
    """With a Bearer header only the token counts: a cookie cannot ride along CSRF-free."""
    make_user("admin2", "admin")
    login(client, "admin2")
    r = client.get("/api/me", headers={"Authorization": "Bearer ictg_nope"})
    assert r.status_code == 401


# --- who may do what --------------------------------------------------------------------


def test_anonymous_gets_login_redirect_on_pages_and_401_on_api(client):
    r = client.get("/admin/users?x=1")
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=/admin/users%3Fx%3D1"
    r = client.get("/api/me")
    assert r.status_code == 401 and r.json()["detail"]
    r = client.get("/admin/users", headers={"HX-Request": "true"})
    assert r.status_code == 401 and r.headers["hx-redirect"].startswith("/login")


def test_logged_in_without_permission_gets_403(client, make_user, engine):
    make_user("lan", "analyst")
    login(client, "lan")
    r = client.get("/admin/users")
    assert r.status_code == 403 and "Bạn không có quyền" in r.text
    token = token_for(engine, "lan")
    r = client.get("/admin/audit", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403 and r.json()["code"] == "error.403"


@pytest.mark.parametrize("role,allowed", [
    ("admin", True), ("analyst", False), ("province_officer", False), ("fact_checker", False),
])
def test_admin_pages_follow_the_policy(client, make_user, role, allowed):
    kw = {"province_code": "01"} if role == "province_officer" else {}
    make_user("u", role, **kw)
    login(client, "u")
    assert client.get("/admin/users").status_code == (200 if allowed else 403)
    assert client.get("/admin/audit").status_code == (200 if allowed else 403)


def _user(role: str, **kw) -> User:
    return User(username="u", role=role, password_hash="x", is_active=True, **kw)


def test_can_applies_the_province_scope():
    officer = _user("province_officer", province_code="01")
    assert can(officer, "stats.import")
    assert can(officer, "stats.import", province_code="01")
    assert not can(officer, "stats.import", province_code="79")
    assert not can(officer, "stats.import", operator_code="VTL")
    assert not can(officer, "stats.define")
    assert can(officer, "stats.read") and can(None, "stats.read") and can(None, "report.read")
    assert scope_of(officer, "stats.import") == {"province_code": "01"}
    unbound = _user("province_officer")
    assert not can(unbound, "stats.import")


def test_can_for_unscoped_and_other_scoped_roles():
    analyst = _user("analyst")
    assert can(analyst, "stats.import", province_code="79")
    assert scope_of(analyst, "stats.import") == {}
    assert not can(analyst, "users.manage") and not can(None, "stats.import")
    admin = _user("admin")
    assert can(admin, "users.manage") and can(admin, "audit.read") and can(admin, "tipline.triage")
    op = _user("operator", operator_code="VTL")
    assert can(op, "antispam.operator", operator_code="VTL")
    assert not can(op, "antispam.operator", operator_code="MBF")
    ent = _user("enterprise", enterprise_ref="0101234567")
    assert can(ent, "dx.assess", enterprise_ref="0101234567")
    assert not can(ent, "dx.assess", enterprise_ref="0109999999")
    assert can(_user("hotline_agent"), "tipline.hotline")
    assert can(_user("fact_checker"), "tipline.triage")
    inactive = _user("admin")
    inactive.is_active = False
    assert not can(inactive, "users.manage")
    with pytest.raises(PermissionError):
        scope_of(analyst, "users.manage")
    with pytest.raises(KeyError):
        can(admin, "no.such.permission")


def test_every_permission_names_known_roles_and_says_what_it_allows():
    for name, p in permissions.PERMISSIONS.items():
        assert p.doc and re.fullmatch(r"[a-z]+\.[a-z_]+", name)
        assert p.roles is None or all(isinstance(r, Role) for r in p.roles)


def test_require_with_a_scope_from_the_path(engine, make_user):
    from ictgov.web.app import create_app

    app = create_app()
    extra = APIRouter()

    @extra.get("/api/_test/provinces/{code}/check")
    def check(code: str, user: Annotated[User, require(
            "stats.import", province_code=lambda r: r.path_params["code"])]) -> dict:
        return {"ok": code}

    app.include_router(extra)
    make_user("hn", "province_officer", province_code="01")
    token = token_for(engine, "hn")
    with TestClient(app) as c:
        h = {"Authorization": f"Bearer {token}"}
        assert c.get("/api/_test/provinces/01/check", headers=h).status_code == 200
        assert c.get("/api/_test/provinces/79/check", headers=h).status_code == 403
        assert c.get("/api/_test/provinces/01/check").status_code == 401


# --- languages ---------------------------------------------------------------------------


def test_language_switch_sets_a_cookie_and_both_languages_render(client):
    r = client.get("/login?lang=en")
    assert r.status_code == 200 and '<html lang="en">' in r.text
    assert "Ministry of Information and Communications" in r.text and "Dashboard" in r.text
    assert "ictgov_lang=en" in r.headers["set-cookie"]
    r = client.get("/login")  # the cookie keeps English
    assert '<html lang="en">' in r.text and "Username" in r.text
    r = client.get("/login?lang=vi")
    assert '<html lang="vi">' in r.text and "Tên đăng nhập" in r.text and "Tổng quan" in r.text
    assert "ictgov_lang=vi" in r.headers["set-cookie"]


def test_every_page_has_the_switch_keeping_the_current_path(client):
    r = client.get("/login?next=/admin/users")
    assert 'href="/login?next=%2Fadmin%2Fusers&amp;lang=en"' in r.text
    assert 'href="/login?next=%2Fadmin%2Fusers&amp;lang=vi"' in r.text
    r = client.get("/no/such/page?lang=en")
    assert r.status_code == 404 and 'href="/no/such/page?lang=vi"' in r.text


def test_i18n_catalogs_have_the_same_keys_and_placeholders():
    from ictgov.web.app import create_app  # noqa: F401  (routers register their messages)

    assert i18n.missing_keys() == {}
    for key in i18n.CATALOGS["vi"]:
        vi, en = i18n.CATALOGS["vi"][key], i18n.CATALOGS["en"][key]
        assert vi and en
        assert i18n._fields(vi) == i18n._fields(en), key


def test_every_key_used_in_templates_exists():
    from ictgov.web import routes

    routes.load()  # every service registers its messages when its routes are imported
    used = set()
    for path in TEMPLATES.rglob("*.html"):
        used |= set(re.findall(r"""\bt\(\s*["']([a-z0-9_.]+)["']""", path.read_text()))
    assert used, "no t() calls found"
    # A key ending in "." is a prefix completed at run time (t("role." ~ user.role)).
    missing = sorted(k for k in used if not k.endswith(".") and not i18n.has(k))
    assert not missing, f"keys used in templates but not registered: {missing}"


def test_register_refuses_a_one_language_or_conflicting_message():
    with pytest.raises(ValueError):
        i18n.register({"x.only_vi": ("Chỉ tiếng Việt", "")})
    with pytest.raises(ValueError):
        i18n.register({"x.fields": ("{n} dòng", "{count} rows")})
    with pytest.raises(ValueError):
        i18n.register({"nav.home": ("Khác", "Other")})


def test_missing_key_fails_under_tests():
    with pytest.raises(KeyError):
        i18n.t("no.such.key", "vi")


def test_number_and_date_formats():
    from datetime import datetime

    assert i18n.format_number(1234567.5, "vi") == "1.234.567,50"
    assert i18n.format_number(1234567, "en") == "1,234,567"
    assert i18n.format_number(None, "vi") == "–"
    assert i18n.format_datetime(datetime(2025, 1, 2, 20, 30), "vi") == "03/01/2025 03:30"
    assert i18n.format_datetime(datetime(2025, 1, 2, 20, 30), "en") == "2025-01-03 03:30"


# --- errors ------------------------------------------------------------------------------


def test_not_found_is_a_page_or_json(client):
    r = client.get("/no/such/page")
    assert r.status_code == 404 and "Không tìm thấy trang." in r.text
    assert "text/html" in r.headers["content-type"]
    r = client.get("/api/no/such")
    assert r.status_code == 404 and r.json()["detail"]


def test_method_not_allowed_is_clean(client):
    r = client.get("/logout")
    assert r.status_code == 405 and "text/html" in r.headers["content-type"]


def test_validation_errors_name_the_field(admin_client):
    r = admin_client.get("/admin/audit?limit=abc")
    assert r.status_code == 422
    assert "limit" in r.text and "Dữ liệu gửi lên không hợp lệ." in r.text
    r = admin_client.get("/admin/audit?limit=abc", headers={"Accept": "application/json"})
    assert r.status_code == 422
    fields = r.json()["detail"]
    assert fields[0]["field"] == "limit" and fields[0]["msg"] and fields[0]["loc"] == ["query", "limit"]


def test_security_headers(client):
    r = client.get("/login")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    cookie = r.headers["set-cookie"]
    assert "ictgov_session=" in cookie and "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()


def test_unexpected_error_is_a_clean_500(app, caplog):
    extra = APIRouter()

    @extra.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    app.include_router(extra)
    with TestClient(app, raise_server_exceptions=False) as c, caplog.at_level(logging.ERROR):
        r = c.get("/boom")
    assert r.status_code == 500
    assert "secret internals" not in r.text and "Traceback" not in r.text
    assert "Đã có lỗi ở máy chủ" in r.text
    assert "RuntimeError" in caplog.text


def test_a_token_used_often_is_written_at_most_once_a_minute(client, make_user, engine, monkeypatch):
    import ictgov.auth as auth

    make_user("gateway", "analyst")
    token = token_for(engine, "gateway")
    headers = {"Authorization": f"Bearer {token}"}
    t0 = datetime(2026, 12, 7, 8, 0, 0)
    monkeypatch.setattr(auth, "utcnow", lambda: t0)
    assert client.get("/api/me", headers=headers).status_code == 200
    monkeypatch.setattr(auth, "utcnow", lambda: t0 + timedelta(seconds=30))
    assert client.get("/api/me", headers=headers).status_code == 200
    with session_scope(engine) as s:
        assert s.scalar(select(ApiToken)).last_used_at == t0  # not rewritten within the minute
    monkeypatch.setattr(auth, "utcnow", lambda: t0 + timedelta(seconds=61))
    assert client.get("/api/me", headers=headers).status_code == 200
    with session_scope(engine) as s:
        assert s.scalar(select(ApiToken)).last_used_at == t0 + timedelta(seconds=61)
