"""Crash: kill -9 the server or an import in the middle; nothing acknowledged is lost,
nothing is stored twice, nothing half-written is visible.

The real `ictgov serve` runs as a process on a SQLite database; 1,000 clients send reports
concurrently, the two services' channels mixed: the tipline's partner API (with
Idempotency-Key) and public web form, the antispam 5656 gateway API (with the gateway's
message id) and the antispam web form (code requested, then confirmed with the code the SMS
carried). Once enough receipts have come back the server is killed with SIGKILL, restarted,
and the clients retry every API report that got no answer, with the same key or message id
(and some that did get one: a repeat must give the same receipt, not a second report).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import re
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
API_REPORTS = 700  # tipline partner API
WEB_REPORTS = 100  # tipline web form
SMS_REPORTS = 160  # antispam: SMS to 5656 through the gateway API
SPAM_WEB_REPORTS = 40  # antispam web form: ask for a code, confirm it
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


def _code_for(db_path: Path, number: str) -> str | None:
    """The one-time code in the last SMS queued to `number` (what the citizen's phone shows)."""
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10) as db:
        row = db.execute("SELECT body FROM outbox WHERE recipient = ? ORDER BY id DESC LIMIT 1",
                         (number,)).fetchone()
    match = re.search(r"\b(\d{6})\b", row[0]) if row else None
    return match.group(1) if match else None


def _csrf(html: str) -> str:
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


async def _send(base: str, tokens: dict, state: dict, kill, db_path: Path, todo: dict) -> None:
    """Send the reports listed in `todo` (channel -> indexes), all channels interleaved."""
    sem = asyncio.Semaphore(32)
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        def acknowledged(channel: str, key, receipt: str) -> None:
            if isinstance(state[channel], dict):
                state[channel][key] = receipt
            else:
                state[channel].append(receipt)
            kill()

        async def api(i: int) -> None:
            key = f"crash-{i}"
            async with sem:
                try:
                    r = await client.post("/api/tipline/reports", json={"text": _claim(i), "category": "other"},
                                          headers={"Authorization": f"Bearer {tokens['tipline']}",
                                                   "Idempotency-Key": key})
                except httpx.HTTPError:
                    state["lost"] += 1
                    return
            if r.status_code in (200, 201):
                acknowledged("api", key, r.json()["receipt"])
            else:
                state["lost"] += 1

        async def web(i: int) -> None:
            async with sem:
                try:
                    async with httpx.AsyncClient(base_url=base, timeout=30) as own:  # own session
                        form = await own.get("/phan-anh")
                        r = await own.post("/phan-anh", data={
                            "csrf_token": _csrf(form.text), "text": _claim(10_000 + i), "platform": "zalo",
                            "category": "other"}, headers={"X-Forwarded-For": f"10.0.{i // 250}.{i % 250}"})
                except (httpx.HTTPError, IndexError):
                    state["lost"] += 1
                    return
            if r.status_code == 303:
                acknowledged("web", None, r.headers["location"].rsplit("/", 1)[1])
            else:
                state["lost"] += 1

        async def sms(i: int) -> None:
            gateway_id = f"smsc-{i}"
            body = {"from": f"091{2_000_000 + i:07d}", "id": gateway_id,
                    "text": f"S [0987{i:06d}][Vay tien nhanh {i} trieu, giai ngan 5 phut]"}
            async with sem:
                try:
                    r = await client.post("/api/antispam/sms-inbound", json=body,
                                          headers={"Authorization": f"Bearer {tokens['antispam']}"})
                except httpx.HTTPError:
                    state["lost"] += 1
                    return
            if r.status_code == 200 and r.json().get("receipt"):
                acknowledged("sms", gateway_id, r.json()["receipt"])
            else:
                state["lost"] += 1

        async def spam_web(i: int) -> None:
            number = f"091{3_000_000 + i:07d}"
            ip = {"X-Forwarded-For": f"10.1.{i // 250}.{i % 250}"}
            async with sem:
                try:
                    async with httpx.AsyncClient(base_url=base, timeout=30) as own:  # own session
                        form = await own.get("/chan-rac/phan-anh")
                        asked = await own.post("/chan-rac/phan-anh", headers=ip, data={
                            "csrf_token": _csrf(form.text), "kind": "sms", "reporter_number": number,
                            "source": f"0988{i:06d}", "content": f"Khuyen mai {i}: nhan qua tai spam.top"})
                        if asked.status_code != 303:
                            raise httpx.HTTPError(f"code not sent: {asked.status_code}")
                        code_url = asked.headers["location"]
                        code = await asyncio.to_thread(_code_for, db_path, number)
                        page = await own.get(code_url)
                        r = await own.post(code_url, headers=ip,
                                           data={"csrf_token": _csrf(page.text), "code": code or ""})
                except (httpx.HTTPError, IndexError, sqlite3.Error):
                    state["lost"] += 1
                    return
            if r.status_code == 303:
                acknowledged("spam_web", None, r.headers["location"].rsplit("/", 1)[1])
            else:
                state["lost"] += 1

        senders = {"api": api, "web": web, "sms": sms, "spam_web": spam_web}
        queues = [[senders[ch](i) for i in todo.get(ch, ())] for ch in senders]
        tasks = []
        while any(queues):  # interleave the channels
            for q in queues:
                if q:
                    tasks.append(q.pop(0))
        await asyncio.gather(*tasks)


def _run(coro) -> None:
    # Playwright's sync API (session-wide in the browser tests) leaves an event loop
    # running in the main thread, where asyncio.run() refuses to start another one.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coro).result()


def test_kill_9_mid_load_loses_no_receipt_and_duplicates_nothing(tmp_path):
    env = _env(tmp_path)
    db_path = tmp_path / "db.sqlite3"
    # The database and the two gateways' accounts, in one process (each CLI call pays the start-up)
    setup = """
import json
from sqlalchemy import select
from ictgov.auth import User, create_user, issue_token
from ictgov.db import get_engine, session_scope
from ictgov.migrate import upgrade
upgrade(get_engine())
tokens = {}
with session_scope() as s:
    for service, user, role, operator in (("tipline", "gateway", "hotline_agent", None),
                                          ("antispam", "smsc", "operator", "VINAPHONE")):
        create_user(s, user, "gateway-pass-1", role, operator_code=operator)
        s.flush()
        tokens[service] = issue_token(s, s.scalar(select(User).where(User.username == user)), "crash")
print(json.dumps(tokens))
"""
    tokens = json.loads(subprocess.run([sys.executable, "-c", setup], env=env, check=True,
                                       capture_output=True, text=True).stdout.strip().splitlines()[-1])
    port = _free_port()
    log = tmp_path / "server.log"
    server = _start(env, port, log)
    base = f"http://127.0.0.1:{port}"
    state = {"api": {}, "web": [], "sms": {}, "spam_web": [], "lost": 0, "killed": False}
    everything = {"api": range(API_REPORTS), "web": range(WEB_REPORTS), "sms": range(SMS_REPORTS),
                  "spam_web": range(SPAM_WEB_REPORTS)}

    def kill() -> None:
        # Every channel must have had an answer too: on a busy machine the slow ones (the
        # spam form takes four round trips) may not have one after the first 300 receipts.
        if not state["killed"] and sum(len(state[ch]) for ch in everything) >= KILL_AFTER \
                and all(state[ch] for ch in everything):
            state["killed"] = True
            os.kill(server.pid, signal.SIGKILL)

    try:
        _run(_send(base, tokens, state, kill, db_path, everything))
        server.wait(timeout=30)
        assert state["killed"] and server.returncode == -signal.SIGKILL
        assert state["lost"] > 0, "the kill came after every request had its answer"
        acknowledged = {ch: (dict(v) if isinstance(v, dict) else list(v))
                        for ch, v in state.items() if ch in everything}
        assert all(acknowledged[ch] for ch in everything), "some channel had no receipt before the kill"

        # Restart (on a fresh port: the old one may linger in TIME_WAIT); every API client
        # that got no answer retries with the same key, and 20 of each that did get one
        # repeat theirs (a gateway resending a message it is unsure of).
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = _start(env, port, log)
        state.update(lost=0, killed=True)
        retry = {
            "api": [i for i in range(API_REPORTS) if f"crash-{i}" not in acknowledged["api"]]
            + [int(k.split("-")[1]) for k in list(acknowledged["api"])[:20]],
            "sms": [i for i in range(SMS_REPORTS) if f"smsc-{i}" not in acknowledged["sms"]]
            + [int(k.split("-")[1]) for k in list(acknowledged["sms"])[:20]],
        }
        _run(_send(base, tokens, state, lambda: None, db_path, retry))
        assert state["lost"] == 0  # web forms are retried by people, not here; every API call is
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=30)

    db = sqlite3.connect(db_path)
    stored = dict(db.execute("SELECT idempotency_key, receipt FROM tipline_reports WHERE channel = 'api'"))
    web_stored = [r for (r,) in db.execute("SELECT receipt FROM tipline_reports WHERE channel = 'web'")]
    sms_stored = dict(db.execute("SELECT gateway_id, receipt FROM antispam_reports WHERE channel = 'shortcode'"))
    spam_web_stored = [r for (r,) in db.execute("SELECT receipt FROM antispam_reports WHERE channel = 'web'")]
    # every receipt a client saw before the crash is in the database, under its key
    for key, receipt in acknowledged["api"].items():
        assert stored.get(key) == receipt, key
    for gateway_id, receipt in acknowledged["sms"].items():
        assert sms_stored.get(gateway_id) == receipt, gateway_id
    # web receipts: each one given is stored, once; none was given twice
    for given, kept in ((acknowledged["web"], web_stored), (acknowledged["spam_web"], spam_web_stored)):
        assert len(set(given)) == len(given) and len(set(kept)) == len(kept)
        assert set(given) <= set(kept)
    assert len(set(state["web"])) == len(state["web"]) and len(set(state["spam_web"])) == len(state["spam_web"])
    # after the retries every key and message id has exactly one report (none twice), and a
    # repeat got the receipt of the first
    assert len(stored) == API_REPORTS
    assert all(stored[k] == r for k, r in state["api"].items())
    assert db.execute("SELECT count(*) FROM tipline_reports WHERE channel = 'api'").fetchone()[0] == API_REPORTS
    assert len(sms_stored) == SMS_REPORTS
    assert all(sms_stored[k] == r for k, r in state["sms"].items())
    assert db.execute("SELECT count(*) FROM antispam_reports WHERE channel = 'shortcode'").fetchone()[0] == SMS_REPORTS
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
