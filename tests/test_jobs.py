"""Background jobs: in-process without Redis, on RQ with the real Redis, retried, re-runnable."""

from __future__ import annotations

import socket
import uuid

import pytest

from ictgov import jobs

CALLS: dict[str, int] = {}


@jobs.job("test.flaky", retries=2, backoff=(0,))
def flaky(key: str, fail_times: int) -> str:
    CALLS[key] = CALLS.get(key, 0) + 1
    jobs.progress(0.5, "half way")
    if CALLS[key] <= fail_times:
        raise ValueError(f"attempt {CALLS[key]} of {key} fails")
    return f"done after {CALLS[key]}"


def test_inline_jobs_retry_then_finish_or_fail_with_their_error():
    b = jobs.InlineBackend(eager=True, sleep=lambda s: None)
    ok = b.enqueue("test.flaky", {"key": "a", "fail_times": 2}, None)
    assert ok.status == "finished" and ok.attempts == 3 and ok.result == "done after 3"
    assert ok.progress == 1.0
    bad = b.enqueue("test.flaky", {"key": "b", "fail_times": 5}, None)
    assert bad.status == "failed" and bad.attempts == 3
    assert jobs.summary(bad.error) == "ValueError: attempt 3 of b fails"
    assert b.failed() == 1
    again = b.rerun(bad.id)  # attempts 4 and 5 fail, the 6th succeeds: the trouble has passed
    assert again.id != bad.id and again.status == "finished" and again.result == "done after 6"
    with pytest.raises(KeyError):
        jobs.enqueue("no.such.job")


def test_inline_background_thread_and_backoff_are_used():
    waits = []
    b = jobs.InlineBackend(sleep=waits.append)
    j = b.enqueue("test.flaky", {"key": "c", "fail_times": 1}, None)
    b.wait()
    assert b.get(j.id).status == "finished" and waits == [0]


def _redis_url() -> str | None:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return "redis://127.0.0.1:6379/15"
    except OSError:
        return None


@pytest.fixture
def rq_backend():
    import os

    url = _redis_url()
    if url is None:
        if os.environ.get("CI"):
            pytest.fail("Redis does not answer on 127.0.0.1:6379; CI must test the queue on it")
        pytest.skip("Redis not available on 127.0.0.1:6379")
    b = jobs.RQBackend(url, queue=f"ictgov-test-{uuid.uuid4().hex[:8]}")
    jobs.use(b)
    try:
        yield b
    finally:
        for key in b.redis.scan_iter(f"*{b.queue.name}*"):
            b.redis.delete(key)
        jobs.use(None)


def _drain(b: jobs.RQBackend) -> None:
    jobs.worker_class(simple=True)([b.queue], connection=b.redis).work(burst=True)


def test_rq_jobs_run_in_a_worker_retry_and_can_be_rerun(rq_backend):
    key = uuid.uuid4().hex
    ok = jobs.enqueue("test.flaky", idempotency_key=f"ok-{key}", key=f"ok-{key}", fail_times=1)
    # the same idempotency key while queued: the same job, not a second one
    assert jobs.enqueue("test.flaky", idempotency_key=f"ok-{key}", key=f"ok-{key}", fail_times=1).id == ok.id
    bad = jobs.enqueue("test.flaky", key=f"bad-{key}", fail_times=10)
    assert rq_backend.depth() == 2
    _drain(rq_backend)
    done = jobs.get(ok.id)
    assert done.status == "finished" and done.result == "done after 2" and done.progress == 0.5
    failed = jobs.get(bad.id)
    assert failed.status == "failed" and "attempt 3 of bad-" in jobs.summary(failed.error)
    assert rq_backend.failed() == 1
    assert {j.id for j in jobs.recent()} >= {ok.id, bad.id}
    jobs.rerun(bad.id)
    assert jobs.get(bad.id).status == "queued"
    _drain(rq_backend)
    assert jobs.get(bad.id).status == "failed"  # still failing, still visible


def test_a_fresh_worker_process_knows_every_declared_job():
    import subprocess
    import sys

    code = "from ictgov import jobs; jobs._load_declarations(); print(sorted(jobs.JOBS))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "notify.drain" in out


def test_readiness_and_metrics_report_the_queue(rq_backend):
    from fastapi.testclient import TestClient

    from ictgov.config import Settings
    from ictgov.web.app import create_app

    jobs.enqueue("test.flaky", key="m", fail_times=0)
    with TestClient(create_app(Settings(database_url="sqlite://", secret_key="x"))) as c:
        ready = c.get("/readyz").json()
        assert ready["queue"] == "ok"
        metrics = c.get("/metrics").text
        assert "ictgov_jobs_queued 1.0" in metrics and "ictgov_jobs_failed 0.0" in metrics
        real = rq_backend.redis
        rq_backend.redis = __import__("redis").Redis(port=1)  # nothing listens there
        try:
            r = c.get("/readyz")
            assert r.status_code == 503 and r.json()["queue"] == "unreachable"
        finally:
            rq_backend.redis = real
