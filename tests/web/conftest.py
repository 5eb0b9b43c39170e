"""Web tests: the app on the `engine` fixture's database (SQLite and PostgreSQL)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ictgov.auth import User, create_user, hash_password
from ictgov.db import session_scope

PASSWORD = "correct-horse-battery"
# A page every visitor gets with the full layout (header, logout form with the CSRF
# token) whatever other services mount at "/": the not-found page.
ANY_PAGE = "/_no_such_page"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def app(engine):
    from ictgov.web.app import create_app

    return create_app()


@pytest.fixture
def client(app):
    with TestClient(app, follow_redirects=False) as c:
        yield c


@pytest.fixture
def make_user(engine):
    """Create an account; returns its id. Scoped roles are inserted directly so the test
    does not depend on province reference data being loaded."""

    def make(username: str, role: str = "analyst", password: str = PASSWORD, **kw) -> int:
        with session_scope(engine) as s:
            if role in ("province_officer", "operator", "enterprise"):
                user = User(username=username, password_hash=hash_password(password), role=role,
                            full_name=kw.pop("full_name", ""), **kw)
                s.add(user)
                s.flush()
            else:
                user = create_user(s, username, password, role, **kw)
            return user.id

    return make


@pytest.fixture
def admin_id(make_user):
    return make_user("admin", "admin", full_name="Nguyễn Văn Quản")


def csrf_token(client: TestClient, path: str = "/login") -> str:
    """The session's CSRF token, read from a page's form (starting a session if needed)."""
    html = client.get(path).text
    m = CSRF_RE.search(html)
    assert m, f"no csrf_token field on {path}"
    return m.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD, next: str = "/"):
    token = csrf_token(client, "/login")
    return client.post("/login", data={"username": username, "password": password,
                                       "next": next, "csrf_token": token})


@pytest.fixture
def admin_client(client, admin_id):
    r = login(client, "admin")
    assert r.status_code == 303, r.text
    return client


def user_by_name(engine, username: str) -> User | None:
    with session_scope(engine) as s:
        return s.scalar(select(User).where(User.username == username))
