"""`ictgov jobs list/run/rerun` and `ictgov worker`, as an operator of the platform uses them."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from ictgov import jobs
from ictgov.cli import app
from ictgov.db import session_scope
from ictgov.tipline.models import OutboxMessage



def _redis_url() -> str | None:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return "redis://127.0.0.1:6379/15"
    except OSError:
        return None

runner = CliRunner()
STATE = {"fail": 0}


@jobs.job("test.cli_sometimes", retries=0)
def sometimes() -> str:
    """Fails while STATE["fail"] > 0 (a mail relay that is down, say)."""
    if STATE["fail"] > 0:
        STATE["fail"] -= 1
        raise ConnectionError("relay down")
    return "ok"


def _outbox(engine, n: int = 3) -> None:
    with session_scope(engine) as s:
        s.add_all(OutboxMessage(channel="email", recipient=f"r{i}@example.vn", subject="s", body="b")
                  for i in range(n))


def _sent(engine) -> int:
    with session_scope(engine) as s:
        return s.scalar(select(func.count()).where(OutboxMessage.status == "sent"))


def test_jobs_run_list_and_rerun_without_redis(engine):
    _outbox(engine)
    r = runner.invoke(app, ["jobs", "run", "notify.drain"])
    assert r.exit_code == 0, r.output
    assert "finished" in r.output and "'sent': 3" in r.output and _sent(engine) == 3

    STATE["fail"] = 1
    r = runner.invoke(app, ["jobs", "run", "test.cli_sometimes"])
    assert r.exit_code == 1 and "failed" in r.output and "ConnectionError: relay down" in r.output
    listed = runner.invoke(app, ["jobs", "list"])
    assert listed.exit_code == 0
    failed = [line for line in listed.output.splitlines() if "test.cli_sometimes" in line]
    assert failed and "failed" in failed[0] and "relay down" in failed[0]
    job_id = failed[0].split()[0]
    again = runner.invoke(app, ["jobs", "rerun", job_id])  # the relay is back
    assert again.exit_code == 0 and "finished" in again.output, again.output
    assert runner.invoke(app, ["jobs", "rerun", "no-such-job"]).exit_code == 1
    bad = runner.invoke(app, ["jobs", "run", "no.such.job"])
    assert bad.exit_code == 1 and "unknown job" in bad.output


def test_worker_needs_a_queue(engine):
    jobs.use(jobs.InlineBackend())
    try:
        r = runner.invoke(app, ["worker", "--burst"])
    finally:
        jobs.use(None)
    assert r.exit_code == 1 and "ICTGOV_REDIS_URL" in r.output


def test_worker_runs_the_queued_jobs_from_redis(engine):
    import os

    url = _redis_url()
    if url is None:
        if os.environ.get("CI"):
            pytest.fail("Redis does not answer on 127.0.0.1:6379")
        pytest.skip("Redis not available on 127.0.0.1:6379")
    b = jobs.RQBackend(url, queue=f"ictgov-test-{uuid.uuid4().hex[:8]}")
    jobs.use(b)
    try:
        _outbox(engine, 4)
        queued = runner.invoke(app, ["jobs", "run", "notify.drain", "--no-wait"])
        assert queued.exit_code == 0 and "queued" in queued.output
        assert _sent(engine) == 0  # on the queue, not run by the command
        r = runner.invoke(app, ["worker", "--burst"])
        assert r.exit_code == 0, r.output
        assert _sent(engine) == 4
        listed = runner.invoke(app, ["jobs", "list"]).output
        assert any("notify.drain" in line and "finished" in line for line in listed.splitlines())
    finally:
        for key in b.redis.scan_iter(f"*{b.queue.name}*"):
            b.redis.delete(key)
        jobs.use(None)


def test_long_commands_report_their_progress(engine, tmp_path):
    """backup, restore, stats import and dx dti report through jobs.progress, which the
    commands show as progress bars (and a job's page as its progress)."""
    from ictgov.backup import backup, restore
    from ictgov.dx.dti import run
    from ictgov.dx.framework import get
    from ictgov.stats.areas import load_reference_areas
    from ictgov.stats.ingest import import_observations

    if engine.dialect.name != "sqlite":
        # the reports are the same code on both backends; pg_dump/pg_restore: tests/test_backup.py
        pytest.skip("progress reports are backend-independent; run once, on SQLite")
    seen: list[tuple[float, str]] = []
    with session_scope(engine) as s:
        load_reference_areas(s)
    data_dir = tmp_path / "data"
    (data_dir / "evidence").mkdir(parents=True)
    (data_dir / "evidence" / "a.png").write_bytes(b"x")
    with jobs.reporting(lambda f, m: seen.append((f, m))):
        with session_scope(engine) as s:
            import_observations(s, b"indicator,area,period,value,unit,source\nx,VN,2021,5,units,t\n", "f.csv")
        assert any(m == "checking every row" for _, m in seen) and any(m == "writing" for _, m in seen)
        seen.clear()
        run(("area,year,awareness,institutions,infrastructure,human_resources,cybersecurity,smart_city,"
             "digital_government,digital_economy,digital_society\n"
             "Đà Nẵng,2022,0.8,0.8,0.8,0.8,0.8,0.5,0.8,0.8,0.8\nHa Noi,2022,0.6,0.6,0.6,0.6,0.6,0.5,0.6,0.6,0.6\n"
             ).encode(), get("dti-2022", "index"), draws=50)
        assert any("50 draws" in m for _, m in seen)
        seen.clear()
        backup(engine, data_dir, tmp_path / "b.tar")
        assert seen[0][1] == "database" and seen[-1] == (1.0, "done")
        assert [f for f, _ in seen] == sorted(f for f, _ in seen)
        seen.clear()
        restore(engine, data_dir, tmp_path / "b.tar", force=True)
        assert seen[-1] == (1.0, "done") and any("count" in m for _, m in seen)
    # and the command shows them (the bar is on stderr, transient; the command still works)
    r = runner.invoke(app, ["backup", str(tmp_path / "c.tar")])
    assert r.exit_code == 0 and "c.tar" in r.output
