"""Shared fixtures: a migrated database on SQLite and, where it answers, on PostgreSQL; and
the scan of the whole run's logs for personal data.

Storage and API tests take the `engine` fixture and so run on both backends. PostgreSQL
is used when ICTGOV_TEST_POSTGRES_URL is set or a server answers on 127.0.0.1:5432
(database `test`); each test session creates a database of its own and drops it at the
end. In CI (CI=true) a missing PostgreSQL is an error, not a skip.
"""

from __future__ import annotations

import copy
import logging
import os
import re
import socket
import threading
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


# --- the logs of the whole run, scanned for personal data -----------------------------------
#
# Every log record the run emits goes through the platform's own log handler (JSON lines,
# the personal-data filter: what a production log file would hold) into run-logs.jsonl; the
# logs of the server processes that tests start (``*.log`` files under the run's temporary
# directory: tests/test_crash.py, tests/test_logs.py, at INFO) are read too. When the run ends, no
# phone number, e-mail address or person's name that a test typed may be in any of them;
# the run fails if one is, naming the value and the line.

_PHONE_LITERAL = re.compile(r"(?<![\w])(?:\+84|84|0)[\d .-]{8,13}\d(?![\w])")
_EMAIL_LITERAL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_NAME_LITERAL = re.compile(
    r"""(?:full_name|contact_name|caller_name|reporter_name)["']?\s*[:=]\s*f?["']([^"'{}<>]{5,80})["']""")
# addresses that are the platform's own, not a person's
_NOT_PERSONAL = {"noreply@localhost"}


def personal_data_in_tests(root: Path = ROOT / "tests") -> dict[str, set[str]]:
    """The phones (as digits), e-mails and names that the tests type."""
    from ictgov.text import extract_phones

    phones, emails, names = set(), set(), set()
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for m in _PHONE_LITERAL.finditer(text):
            phones.update(re.sub(r"\D", "", p)[-9:] for p in extract_phones(m.group(0)))
        emails.update(e.lower() for e in _EMAIL_LITERAL.findall(text))
        names.update(n.strip() for n in _NAME_LITERAL.findall(text) if " " in n.strip())
    return {"phone": phones, "email": emails - _NOT_PERSONAL, "name": names}


def find_personal_data(lines, wanted: dict[str, set[str]]) -> list[tuple[str, str, str]]:
    """(kind, value, line) for each line of `lines` that holds a value of `wanted`."""
    from ictgov.text import extract_phones

    found = []
    for line in lines:
        low = line.lower()
        for p in extract_phones(line) if any(c.isdigit() for c in line) else ():
            if re.sub(r"\D", "", p)[-9:] in wanted["phone"]:
                found.append(("phone", p, line))
        found += [("email", e, line) for e in wanted["email"] if e in low]
        found += [("name", n, line) for n in wanted["name"] if n in line]
    return found


class _RunLog(logging.Handler):
    """Writes each record as the platform's handler would, without changing the record
    (a test's own caplog must still see what was really logged)."""

    def __init__(self, path: Path) -> None:
        super().__init__(logging.DEBUG)
        from ictgov.logs import handler

        self.path = path
        self._stream = open(path, "a", encoding="utf-8")  # noqa: SIM115 - open for the run
        self._inner = handler(self._stream)
        self._lock_ = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        with self._lock_:
            self._inner.handle(copy.copy(record))
            self._stream.flush()

    def close(self) -> None:
        self._stream.close()
        super().close()


def pytest_sessionstart(session) -> None:
    if hasattr(session.config, "workerinput"):
        return
    from tempfile import mkdtemp

    path = Path(mkdtemp(prefix="ictgov-run-logs-")) / "run-logs.jsonl"
    session.config._ictgov_run_log = handler = _RunLog(path)
    # Levels are left as they are: raising them for the whole run would send INFO lines of
    # the browser tests' server thread into pytest's per-test capture handlers between two
    # tests. The scan gets what the run emits: warnings and errors always, every level in
    # the tests that raise it (the privacy tests log at DEBUG), and the servers' INFO logs.
    logging.getLogger().addHandler(handler)


def _server_logs(config) -> list[Path]:
    try:
        base = config._tmp_path_factory.getbasetemp()
    except (AttributeError, ValueError):
        return []
    return sorted(p for p in Path(base).rglob("*.log") if p.is_file())


def pytest_sessionfinish(session, exitstatus) -> None:
    handler = getattr(session.config, "_ictgov_run_log", None)
    if handler is None:
        return
    logging.getLogger().removeHandler(handler)
    handler.close()
    if session.testscollected == 0 or os.environ.get("ICTGOV_SKIP_LOG_SCAN"):
        return
    wanted = personal_data_in_tests()
    sources = [handler.path, *_server_logs(session.config)]
    found = []
    for src in sources:
        with open(src, encoding="utf-8", errors="replace") as f:
            found += [(src, *hit) for hit in find_personal_data(f, wanted)]
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    n_lines = sum(1 for src in sources for _ in open(src, encoding="utf-8", errors="replace"))
    if found:
        if reporter:
            reporter.write_sep("=", "personal data in the logs of this run", red=True)
            for src, kind, value, line in found[:50]:
                reporter.write_line(f"{kind} {value!r} in {src.name}: {line.strip()[:300]}")
        session.exitstatus = 1
    elif reporter:
        reporter.write_line(f"log scan: {n_lines} log lines of this run ({len(sources)} files) hold none of the "
                            f"{sum(len(v) for v in wanted.values())} phones, e-mails and names the tests use")
