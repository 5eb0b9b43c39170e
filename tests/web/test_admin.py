"""Administration pages: accounts, API tokens, the audit log."""

from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import select

from ictgov.audit import AuditEntry
from ictgov.auth import ApiToken
from ictgov.db import session_scope

from .conftest import ANY_PAGE, PASSWORD, csrf_token, login, user_by_name


def audit_rows(engine, entity=None):
    with session_scope(engine) as s:
        q = select(AuditEntry).order_by(AuditEntry.id)
        if entity:
            q = q.where(AuditEntry.entity == entity)
        return [(e.actor, e.action, e.entity, e.entity_id, e.before, e.after) for e in s.scalars(q)]


def post(client, path, data=None):
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client, "/admin/users")})


def test_users_page_lists_accounts(admin_client, make_user):
    make_user("lan", "analyst", full_name="Trần Thị Lan")
    r = admin_client.get("/admin/users")
    assert r.status_code == 200
    assert "Trần Thị Lan" in r.text and "Chuyên viên phân tích" in r.text
    assert "Tạo tài khoản" in r.text
    r = admin_client.get("/admin/users?lang=en")
    assert "Create an account" in r.text and "Analyst" in r.text


def test_admin_creates_a_user_through_the_form(admin_client, engine, caplog):
    with caplog.at_level(logging.DEBUG):
        r = post(admin_client, "/admin/users", {
            "username": "vtl_bot", "password": "Op-Pass-1234", "role": "operator",
            "full_name": "Viettel", "email": "noc@viettel.example", "operator_code": "VTL",
        })
    assert r.status_code == 303 and r.headers["location"] == "/admin/users"
    page = admin_client.get("/admin/users").text
    assert "Đã tạo tài khoản vtl_bot." in page and "VTL" in page
    user = user_by_name(engine, "vtl_bot")
    assert user.role == "operator" and user.operator_code == "VTL" and user.email == "noc@viettel.example"
    rows = audit_rows(engine, "user")
    assert rows[-1][:3] == ("admin", "create", "user")
    assert "Op-Pass-1234" not in str(rows) and "noc@viettel.example" not in str(rows)
    assert "Op-Pass-1234" not in caplog.text and "noc@viettel.example" not in caplog.text
    # The new account can log in.
    admin_client.post("/logout", data={"csrf_token": csrf_token(admin_client, ANY_PAGE)})
    assert login(admin_client, "vtl_bot", "Op-Pass-1234").status_code == 303


@pytest.mark.parametrize("data,field,vi_text", [
    ({"role": "superuser"}, "role", "Vai trò không hợp lệ."),
    ({"role": "operator"}, "operator_code", "Bắt buộc với vai trò Doanh nghiệp viễn thông."),
    ({"role": "analyst", "province_code": "01"}, "province_code", "Chỉ dùng cho vai trò Cán bộ Sở."),
    ({"role": "analyst", "password": "short"}, "password", "Mật khẩu cần ít nhất 8 ký tự."),
    ({"role": "analyst", "username": "admin"}, "username", "Tên đăng nhập «admin» đã có người dùng."),
    ({"role": "analyst", "username": "   "}, "username", "Bắt buộc, tối đa 80 ký tự."),
])
def test_bad_account_shows_the_field_error(admin_client, engine, data, field, vi_text):
    form = {"username": "newbie", "password": PASSWORD, **data}
    r = post(admin_client, "/admin/users", form)
    assert r.status_code == 422
    assert f'id="e-{field}"' in r.text and 'aria-invalid="true"' in r.text
    assert vi_text in r.text
    assert user_by_name(engine, "newbie") is None
    assert len(audit_rows(engine, "user")) == 1  # only the admin's own creation


def test_bad_account_error_in_english(admin_client):
    admin_client.get("/admin/users?lang=en")
    r = post(admin_client, "/admin/users", {"username": "x", "password": PASSWORD, "role": "operator"})
    assert r.status_code == 422
    assert "Operator code: Required for the role Telecom operator." in r.text


def test_form_values_are_kept_after_an_error(admin_client):
    r = post(admin_client, "/admin/users", {"username": "keepme", "full_name": "Lê Văn Giữ",
                                            "password": "short", "role": "analyst"})
    assert 'value="keepme"' in r.text and 'value="Lê Văn Giữ"' in r.text
    assert "short" not in re.findall(r'value="([^"]*)"', r.text)


def test_deactivate_and_reactivate_write_audit_entries(admin_client, make_user, engine):
    uid = make_user("lan")
    r = post(admin_client, f"/admin/users/{uid}/deactivate")
    assert r.status_code == 303
    assert user_by_name(engine, "lan").is_active is False
    actor, action, entity, entity_id, before, after = audit_rows(engine, "user")[-1]
    assert (actor, action, entity, entity_id) == ("admin", "deactivate", "user", str(uid))
    assert before["is_active"] is True and after["is_active"] is False
    assert "Đã khoá tài khoản lan." in admin_client.get("/admin/users").text
    r = post(admin_client, f"/admin/users/{uid}/activate")
    assert user_by_name(engine, "lan").is_active is True
    assert audit_rows(engine, "user")[-1][1] == "activate"


def test_admin_cannot_deactivate_itself(admin_client, admin_id, engine):
    r = post(admin_client, f"/admin/users/{admin_id}/deactivate")
    assert r.status_code == 303
    assert user_by_name(engine, "admin").is_active is True
    assert "Không thể tự khoá tài khoản của mình." in admin_client.get("/admin/users").text


def test_unknown_user_is_404(admin_client):
    r = post(admin_client, "/admin/users/999999/deactivate")
    assert r.status_code == 404 and "Không có người dùng này." in r.text


def test_issue_a_token_shown_once_that_works_then_revoke_it(admin_client, make_user, engine, client):
    uid = make_user("bot")
    r = post(admin_client, f"/admin/users/{uid}/tokens", {"name": "nightly import"})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    token = re.search(r'data-testid="new-token">([^<]+)<', r.text).group(1)
    assert token.startswith("ictg_")
    assert token not in admin_client.get("/admin/users").text  # shown once
    rows = audit_rows(engine, "api_token")
    assert rows[-1][:3] == ("admin", "create", "api_token") and token not in str(rows)

    from fastapi.testclient import TestClient

    with TestClient(admin_client.app) as machine:
        assert machine.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json()["username"] == "bot"
        with session_scope(engine) as s:
            token_id = s.scalar(select(ApiToken.id).where(ApiToken.user_id == uid))
        r = post(admin_client, f"/admin/tokens/{token_id}/revoke")
        assert r.status_code == 303
        assert machine.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert audit_rows(engine, "api_token")[-1][1] == "revoke"


def test_token_needs_a_name(admin_client, make_user, engine):
    uid = make_user("bot")
    r = post(admin_client, f"/admin/users/{uid}/tokens", {"name": "  "})
    assert r.status_code == 422 and "Hãy đặt tên cho mã" in r.text
    with session_scope(engine) as s:
        assert s.scalar(select(ApiToken)) is None


def test_audit_page_newest_first_and_filtered(admin_client, make_user, engine):
    uid = make_user("lan")
    post(admin_client, f"/admin/users/{uid}/deactivate")
    post(admin_client, f"/admin/users/{uid}/tokens", {"name": "t1"})
    r = admin_client.get("/admin/audit")
    assert r.status_code == 200
    text = r.text
    assert text.index("<code>create</code>") < text.index("<code>deactivate</code>")  # newest first
    r = admin_client.get("/admin/audit?entity=api_token")
    assert "<code>deactivate</code>" not in r.text and "<code>create</code>" in r.text
    r = admin_client.get("/admin/audit?entity=api_token&lang=en")
    assert "Audit log" in r.text


def test_audit_page_shows_vietnamese_text_as_is(admin_client, engine):
    from ictgov.audit import record

    with session_scope(engine) as s:
        record(s, None, "update", "area", "01", after={"name": "Hà Nội <script>"})
    r = admin_client.get("/admin/audit")
    assert "Hà Nội &lt;script&gt;" in r.text and "\\u" not in r.text
