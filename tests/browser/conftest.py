"""Browser tests: the real app under uvicorn, driven by Playwright in Debian's chromium.

- `live_server` (package): the app on a free port of 127.0.0.1, in a background thread,
  on a fresh migrated SQLite database in a temporary directory, with one admin account;
  yields its base URL and the admin's credentials.
- `page`: a new browser context and page on that server (base_url set, so
  ``page.goto("/login")`` works). Any console error or uncaught page error fails the test:
  pages must work without JavaScript errors (a missing static file shows up here too);
  only a document that answered 4xx on purpose (a form with errors) is not counted.

Chromium comes from Debian (``apt-get install chromium``), not from ``playwright install``.
Without /usr/bin/chromium the tests are skipped, except in CI (CI set), where they fail.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ADMIN_USER = "admin"
ADMIN_PASSWORD = "browser-admin-pass"
ADMIN_NAME = "Nguyễn Quản Trị"


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    username: str
    password: str
    full_name: str
    database_url: str


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)"
    if os.environ.get("CI"):
        pytest.fail(message + "; CI must run the browser tests")
    pytest.skip(message)


# Package scope: one server for every browser test, and the ICTGOV_* variables it sets
# are restored as soon as the browser tests are done, before other test packages run.
@pytest.fixture(scope="package")
def live_server(tmp_path_factory):
    import uvicorn

    from ictgov import db as dbmod
    from ictgov.auth import create_user
    from ictgov.config import Settings, get_settings
    from ictgov.migrate import upgrade
    from ictgov.web.app import create_app

    data_dir = tmp_path_factory.mktemp("live")
    url = f"sqlite:///{data_dir / 'live.sqlite3'}"
    env = pytest.MonkeyPatch()
    # The same settings for the app and for any code that reads get_settings() itself.
    env.setenv("ICTGOV_DATABASE_URL", url)
    env.setenv("ICTGOV_DATA_DIR", str(data_dir))
    env.setenv("ICTGOV_SECRET_KEY", "browser-test-secret")
    get_settings.cache_clear()
    engine = dbmod.get_engine(url)
    upgrade(engine)
    with dbmod.session_scope(engine) as s:
        create_user(s, ADMIN_USER, ADMIN_PASSWORD, "admin", full_name=ADMIN_NAME)

    app = create_app(Settings(database_url=url, data_dir=data_dir, secret_key="browser-test-secret"))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True,
                              name="live-server")
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", ADMIN_USER, ADMIN_PASSWORD, ADMIN_NAME, url)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        engine.dispose()
        dbmod._engines.pop(url, None)
        env.undo()
        get_settings.cache_clear()


@pytest.fixture(scope="session")
def browser():
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                      args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.base_url, locale="vi-VN")
    context.set_default_timeout(10_000)
    pg = context.new_page()
    problems: list[str] = []
    # A page answered with a 4xx on purpose (a form shown again with its errors) makes
    # chromium log "Failed to load resource" for the document itself; that is not a
    # script error. The same message for a script, stylesheet or fetch still counts.
    error_documents: set[str] = set()

    def on_response(response) -> None:
        if response.status >= 400 and response.request.is_navigation_request():
            error_documents.add(response.url)

    def on_console(msg) -> None:
        if msg.type != "error":
            return
        loc = msg.location or {}
        url = loc.get("url", "")
        if msg.text.startswith("Failed to load resource") and url in error_documents:
            return
        problems.append(f"console error: {msg.text} at {url or '?'}:{loc.get('lineNumber', '?')}")

    pg.on("response", on_response)
    pg.on("console", on_console)
    pg.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    yield pg
    context.close()
    if problems:
        pytest.fail("JavaScript errors while the test ran:\n" + "\n".join(problems), pytrace=False)
