"""Shared fixtures: a migrated database on SQLite and, where it answers, on PostgreSQL.

Storage and API tests take the `engine` fixture and so run on both backends. PostgreSQL
is used when ICTGOV_TEST_POSTGRES_URL is set or a server answers on 127.0.0.1:5432
(database `test`); each test session creates a database of its own and drops it at the
end. In CI (CI=true) a missing PostgreSQL is an error, not a skip.
"""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ictgov import db as dbmod
from ictgov.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


def _postgres_admin_url() -> str | None:
    url = os.environ.get("ICTGOV_TEST_POSTGRES_URL")
    if url:
        return url
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            pass
    except OSError:
        return None
    user = os.environ.get("PGUSER", "postgres")
    return f"postgresql+psycopg://{user}@127.0.0.1:5432/test"


POSTGRES_ADMIN_URL = _postgres_admin_url()
BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session", params=BACKENDS)
def backend_url(request, tmp_path_factory):
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "test.sqlite3"
        url = f"sqlite:///{path}"
        upgrade(dbmod.get_engine(url))
        yield url
        dbmod.get_engine(url).dispose()
        return
    if POSTGRES_ADMIN_URL is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL does not answer on 127.0.0.1:5432; CI must test against it")
        pytest.skip("PostgreSQL not available (set ICTGOV_TEST_POSTGRES_URL)")
    name = f"ictgov_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(dbmod.get_engine(url))
        yield url
    finally:
        dbmod.get_engine(url).dispose()
        dbmod._engines.pop(url, None)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _truncate_all(engine) -> None:
    from ictgov.models import metadata

    tables = [t.name for t in reversed(metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for t in tables:
                conn.execute(text(f'DELETE FROM "{t}"'))


@pytest.fixture
def engine(backend_url, monkeypatch, tmp_path):
    """A migrated, empty database on each backend, made the platform's default for the test."""
    eng = dbmod.get_engine(backend_url)
    _truncate_all(eng)
    from ictgov.tipline.service import forget

    forget()  # the in-memory claim index must not outlive the rows it indexes
    from ictgov import jobs

    jobs.use(jobs.InlineBackend(eager=True, sleep=lambda s: None))  # no job outlives its test
    monkeypatch.setenv("ICTGOV_DATABASE_URL", backend_url)
    monkeypatch.setenv("ICTGOV_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ICTGOV_SECRET_KEY", "test-secret-key")
    from ictgov.config import get_settings

    get_settings.cache_clear()
    yield eng
    get_settings.cache_clear()


@pytest.fixture
def session(engine):
    s = dbmod.session_factory(engine)()
    try:
        yield s
    finally:
        s.rollback()
        s.close()
