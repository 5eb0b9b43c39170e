"""Crash: kill -9 the server or an import in the middle; nothing acknowledged is lost,
nothing is stored twice, nothing half-written is visible.

The real `ictgov serve` runs as a process on a SQLite database; clients send reports
concurrently through the partner API (with Idempotency-Key) and the public web form. Once
enough receipts have come back the server is killed with SIGKILL, restarted, and the
clients retry every API report that got no answer, with the same key.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ICTGOV = str(Path(sys.executable).parent / "ictgov")
API_REPORTS = 900
WEB_REPORTS = 100
KILL_AFTER = 300  # receipts received before the kill


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(tmp: Path) -> dict:
    return {**os.environ, "ICTGOV_DATA_DIR": str(tmp), "ICTGOV_SECRET_KEY": "crash-test",
            "ICTGOV_DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}"}


def _start(env: dict, port: int, log: Path) -> subprocess.Popen:
    with open(log, "a") as err:
        proc = subprocess.Popen([ICTGOV, "serve", "--port", str(port)], env=env,
                                stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            tail = [ln for ln in log.read_text().splitlines() if '"ictgov.access"' not in ln][-20:]
            raise RuntimeError(f"server did not start (exit {proc.poll()}): " + "\n".join(tail))
        time.sleep(0.1)


def _claim(i: int) -> str:
    return f"Tin đồn số {i}: {['ngân hàng', 'bệnh viện', 'trường học', 'điện lực'][i % 4]} sẽ đóng cửa từ tuần sau, mã {i * 7919}"


async def _send(base: str, token: str, state: dict, kill) -> None:
    api_receipts: dict[str, str] = state["api"]
    web_receipts: list[str] = state["web"]
    sem = asyncio.Semaphore(32)
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        async def api(i: int) -> None:
            key = f"crash-{i}"
            async with sem:
                try:
                    r = await client.post("/api/tipline/reports", json={"text": _claim(i), "category": "other"},
                                          headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key})
                except httpx.HTTPError:
                    state["lost"] += 1
                    return
            if r.status_code in (200, 201):
                api_receipts[key] = r.json()["receipt"]
                kill()
            else:
                state["lost"] += 1

        async def web(i: int) -> None:
            async with sem:
                try:
                    async with httpx.AsyncClient(base_url=base, timeout=30) as own:  # own session
                        form = await own.get("/phan-anh")
                        token_ = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
                        r = await own.post("/phan-anh", data={
                            "csrf_token": token_, "text": _claim(10_000 + i), "platform": "zalo",
                            "category": "other"}, headers={"X-Forwarded-For": f"10.0.{i // 250}.{i % 250}"})
                except (httpx.HTTPError, IndexError):
                    state["lost"] += 1
                    return
            if r.status_code == 303:
                web_receipts.append(r.headers["location"].rsplit("/", 1)[1])
                kill()
            else:
                state["lost"] += 1

        tasks = [api(i) for i in range(API_REPORTS)] + [web(i) for i in range(WEB_REPORTS)]
        order = list(range(len(tasks)))
        order = order[::2] + order[1::2]  # interleave the two channels
        await asyncio.gather(*(tasks[k] for k in order))


def _run(coro) -> None:
    # Playwright's sync API (session-wide in the browser tests) leaves an event loop
    # running in the main thread, where asyncio.run() refuses to start another one.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coro).result()


def test_kill_9_mid_load_loses_no_receipt_and_duplicates_nothing(tmp_path):
    env = _env(tmp_path)
    subprocess.run([ICTGOV, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run([ICTGOV, "users", "create", "gateway", "--role", "hotline_agent", "--password",
                    "gateway-pass-1"], env=env, check=True, capture_output=True)
    token = subprocess.run([ICTGOV, "users", "token", "gateway"], env=env, check=True, capture_output=True,
                           text=True).stdout.strip().split()[-1]
    port = _free_port()
    log = tmp_path / "server.log"
    server = _start(env, port, log)
    base = f"http://127.0.0.1:{port}"
    state = {"api": {}, "web": [], "lost": 0, "killed": False}

    def kill() -> None:
        if not state["killed"] and len(state["api"]) + len(state["web"]) >= KILL_AFTER:
            state["killed"] = True
            os.kill(server.pid, signal.SIGKILL)

    try:
        _run(_send(base, token, state, kill))
        server.wait(timeout=30)
        assert state["killed"] and server.returncode == -signal.SIGKILL
        assert state["lost"] > 0, "the kill came after every request had its answer"
        acknowledged = dict(state["api"]), list(state["web"])

        # Restart (on a fresh port: the old one may linger in TIME_WAIT); every API client
        # that got no answer retries with the same key.
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = _start(env, port, log)
        state.update(lost=0, killed=True)
        _run(_send(base, token, state, lambda: None))
        assert state["lost"] <= WEB_REPORTS  # web forms are retried by people, not here
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=30)

    db = sqlite3.connect(tmp_path / "db.sqlite3")
    stored = dict(db.execute("SELECT idempotency_key, receipt FROM tipline_reports WHERE channel = 'api'"))
    web_stored = {r for (r,) in db.execute("SELECT receipt FROM tipline_reports WHERE channel = 'web'")}
    # every receipt a client saw before the crash is in the database, under its key
    for key, receipt in acknowledged[0].items():
        assert stored.get(key) == receipt, key
    assert set(acknowledged[1]) <= web_stored
    # after the retries every key has exactly one report (none twice) and the same receipt
    assert len(stored) == API_REPORTS
    assert all(stored[k] == r for k, r in state["api"].items())
    assert db.execute("SELECT count(*) FROM tipline_reports WHERE channel = 'api'").fetchone()[0] == API_REPORTS
    # no report without its case (nothing half-written)
    orphans = db.execute("SELECT count(*) FROM tipline_reports r LEFT JOIN tipline_cases c "
                         "ON c.id = r.case_id WHERE c.id IS NULL").fetchone()[0]
    assert orphans == 0


def test_import_killed_mid_way_leaves_nothing_of_the_file(tmp_path):
    env = _env(tmp_path)
    subprocess.run([ICTGOV, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run([ICTGOV, "sample", "load"], env=env, check=True, capture_output=True)
    db_path = tmp_path / "db.sqlite3"

    def observations() -> int:
        with sqlite3.connect(db_path) as db:
            return db.execute("SELECT count(*) FROM observations").fetchone()[0]

    before = observations()
    big = tmp_path / "big.csv"
    with open(big, "w") as f:
        f.write("indicator,area,period,value,unit,source\n")
        provinces = [line.split(",")[0] for line in
                     (Path(__file__).resolve().parents[1] / "src/ictgov/data/areas/provinces_63.csv")
                     .read_text().splitlines()[1:]]
        n = 0
        for year in range(1990, 2026):
            for p in provinces:
                for k in range(80):
                    f.write(f"crash_test_element_{k},{p},{year},{n % 997},units,crash test\n")
                    n += 1
    proc = subprocess.Popen([ICTGOV, "stats", "import", str(big)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(3.0)
    if proc.poll() is not None:
        pytest.fail("the import ended before it could be killed; make the file larger")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert observations() == before
    with sqlite3.connect(db_path) as db:
        assert db.execute("SELECT count(*) FROM data_elements WHERE code LIKE 'crash_test_%'").fetchone()[0] == 0
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
