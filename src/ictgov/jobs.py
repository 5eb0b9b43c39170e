"""Background jobs: on Redis with RQ when ICTGOV_REDIS_URL is set, in-process otherwise.

Work that is long or must be retried leaves the request path: sending the notification
outbox, rendering reports, scans, retraining, uncertainty runs. A service declares a job
once::

    @job("notify.drain", retries=5, backoff=(10, 60, 300))
    def drain_outbox(limit: int = 500) -> dict: ...

and anything starts it with ``enqueue("notify.drain", limit=100)``. With Redis configured
(production: several web processes and ``ictgov worker``), the job goes on the RQ queue
``ictgov`` and a worker runs it, retrying with the given back-off; a job that still fails is
kept in RQ's failed registry with its traceback, listed to admins and re-runnable. With no
Redis (``make run``, a newcomer's machine) the same job runs in a thread of this process,
with the same retries, and its state is kept in memory.

Jobs are idempotent by contract (a retry or a re-run must not do the work twice); an
``enqueue(..., idempotency_key=...)`` with a key already queued or running returns that job instead of
adding another. A job reports its progress with `progress(fraction, message)`, shown on
the admin page and by ``ictgov jobs``.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger("ictgov.jobs")
QUEUE = "ictgov"


@dataclass(frozen=True)
class JobSpec:
    name: str
    func: Callable[..., Any]
    retries: int
    backoff: tuple[int, ...]
    timeout: int
    doc: str


JOBS: dict[str, JobSpec] = {}


def job(name: str, *, retries: int = 3, backoff: tuple[int, ...] = (10, 60, 300),
        timeout: int = 3600) -> Callable:
    """Declare a job under `name` (retries after the first try; seconds between them)."""
    def register(func: Callable) -> Callable:
        if name in JOBS and JOBS[name].func is not func:
            raise ValueError(f"job {name!r} is already declared")
        JOBS[name] = JobSpec(name, func, retries, tuple(backoff), timeout, (func.__doc__ or "").strip())
        return func
    return register


@dataclass
class JobInfo:
    id: str
    name: str
    kwargs: dict
    status: str  # queued | started | finished | failed
    enqueued_at: datetime
    ended_at: datetime | None = None
    progress: float | None = None
    message: str = ""
    error: str = ""
    attempts: int = 0
    result: Any = None
    key: str | None = None


def summary(error: str) -> str:
    """The exception line of a traceback ("OperationalError: no such table: outbox")."""
    for line in reversed(error.strip().splitlines()):
        if re.match(r"^[A-Za-z_][\w.]*(: |$)", line):
            return line[:300]
    return error.strip().splitlines()[-1][:300] if error.strip() else ""


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _spec(name: str) -> JobSpec:
    _load_declarations()
    try:
        return JOBS[name]
    except KeyError:
        raise KeyError(f"unknown job {name!r}; declared: {', '.join(sorted(JOBS))}") from None


# Modules that declare jobs, imported before a job is looked up so a worker knows every job.
JOB_MODULES = ("ictgov.notify", "ictgov.stats.import_job", "ictgov.stats.review_job", "ictgov.dx.dti_job",
               "ictgov.antispam.jobs", "ictgov.tipline.observations")


def _load_declarations() -> None:
    import importlib

    for module in JOB_MODULES:
        importlib.import_module(module)


# -- where the job runs ------------------------------------------------------------------------

_current = threading.local()


def progress(fraction: float, message: str = "") -> None:
    """Report the running job's progress (0..1); does nothing outside a job."""
    report = getattr(_current, "report", None)
    if report is not None:
        report(max(0.0, min(1.0, float(fraction))), message)


@contextmanager
def reporting(report: Callable[[float, str], None]):
    """Within the block, `progress` calls of this thread go to `report` (the CLI's progress
    bars; the same domain code reports to a job's page when it runs as a job)."""
    previous = getattr(_current, "report", None)
    _current.report = report
    try:
        yield
    finally:
        _current.report = previous


def _run(name: str, kwargs: dict) -> Any:
    """The entry point RQ calls (by import path), and the inline backend too."""
    return _spec(name).func(**kwargs)


class InlineBackend:
    """No Redis: a small thread pool in this process; state in memory (lost on restart)."""

    def __init__(self, workers: int = 2, sleep: Callable[[float], None] = time.sleep,
                 eager: bool = False) -> None:
        # eager: run in the caller's thread before enqueue returns (tests: no job outlives
        # the test that started it)
        self.eager = eager
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ictgov-job")
        self._jobs: dict[str, JobInfo] = {}
        self._lock = threading.Lock()
        self._sleep = sleep

    def enqueue(self, name: str, kwargs: dict, key: str | None) -> JobInfo:
        spec = _spec(name)
        with self._lock:
            if key:
                for j in self._jobs.values():
                    if j.key == key and j.status in ("queued", "started"):
                        return replace(j)
            info = JobInfo(uuid.uuid4().hex, name, dict(kwargs), "queued", _now(), key=key)
            self._jobs[info.id] = info
        if self.eager:
            self._execute(info.id, spec)
        else:
            self._pool.submit(self._execute, info.id, spec)
        return self.get(info.id)

    def _update(self, job_id: str, **changes) -> None:
        with self._lock:
            info = self._jobs[job_id]
            for k, v in changes.items():
                setattr(info, k, v)

    def _execute(self, job_id: str, spec: JobSpec) -> None:
        info = self._jobs[job_id]
        _current.report = lambda f, m: self._update(job_id, progress=f, message=m)
        try:
            for attempt in range(spec.retries + 1):
                self._update(job_id, status="started", attempts=attempt + 1)
                try:
                    result = _run(info.name, info.kwargs)
                except Exception:  # noqa: BLE001 - any failure is recorded and retried
                    self._update(job_id, error=traceback.format_exc(limit=20))
                    if attempt < spec.retries:
                        self._sleep(spec.backoff[min(attempt, len(spec.backoff) - 1)] if spec.backoff else 0)
                        continue
                    self._update(job_id, status="failed", ended_at=_now())
                    log.warning("job %s (%s) failed after %d attempts", info.name, job_id, attempt + 1)
                    return
                self._update(job_id, status="finished", ended_at=_now(), result=result, error="",
                             progress=1.0)
                return
        finally:
            _current.report = None

    def get(self, job_id: str) -> JobInfo | None:
        with self._lock:
            j = self._jobs.get(job_id)
            return replace(j) if j else None

    def recent(self, limit: int = 100) -> list[JobInfo]:
        with self._lock:
            return [replace(j) for j in sorted(self._jobs.values(), key=lambda j: j.enqueued_at,
                                                 reverse=True)[:limit]]

    def rerun(self, job_id: str) -> JobInfo:
        old = self.get(job_id)
        if old is None:
            raise KeyError(f"no job {job_id!r}")
        return self.enqueue(old.name, old.kwargs, old.key)

    def depth(self) -> int:
        with self._lock:
            return sum(j.status == "queued" for j in self._jobs.values())

    def failed(self) -> int:
        with self._lock:
            return sum(j.status == "failed" for j in self._jobs.values())

    def ping(self) -> bool:
        return True

    def wait(self, timeout: float = 30) -> None:
        """Tests and the CLI: until no job is queued or running."""
        deadline = time.monotonic() + timeout
        while any(j.status in ("queued", "started") for j in self.recent(10_000)):
            if time.monotonic() > deadline:
                raise TimeoutError("jobs still running")
            time.sleep(0.01)


class RQBackend:
    """Redis + RQ: the queue ``ictgov``; results kept 7 days, failures 30 days."""

    def __init__(self, url: str, queue: str = QUEUE) -> None:
        import redis
        from rq import Queue

        self.redis = redis.Redis.from_url(url)
        self.queue = Queue(queue, connection=self.redis)

    def enqueue(self, name: str, kwargs: dict, key: str | None) -> JobInfo:
        from rq import Retry
        from rq.exceptions import NoSuchJobError
        from rq.job import Job

        spec = _spec(name)
        # RQ ids allow letters, digits, "_" and "-": a digest keeps any key usable
        job_id = "k-" + hashlib.sha256(f"{name}\0{key}".encode()).hexdigest()[:32] if key else None
        if job_id:
            try:
                existing = Job.fetch(job_id, connection=self.redis)
                if self._info(existing).status in ("queued", "started"):
                    return self._info(existing)
            except NoSuchJobError:
                pass
        rq_job = self.queue.enqueue(
            _run, name, dict(kwargs), job_id=job_id, job_timeout=spec.timeout,
            retry=Retry(max=spec.retries, interval=list(spec.backoff)) if spec.retries else None,
            result_ttl=7 * 86400, failure_ttl=30 * 86400, meta={"name": name, "key": key},
            description=name)
        return self._info(rq_job)

    def _info(self, j) -> JobInfo:
        raw = j.get_status(refresh=False) or "queued"
        status = str(getattr(raw, "value", raw))
        status = {"deferred": "queued", "scheduled": "queued", "stopped": "failed",
                  "canceled": "failed"}.get(status, status)
        error = ""
        result = None
        latest = j.latest_result()
        if latest is not None:
            error = latest.exc_string or "" if status == "failed" else ""
            result = latest.return_value if status == "finished" else None
        name, kwargs = (j.args[0], j.args[1]) if len(j.args or ()) == 2 else (j.meta.get("name"), {})
        return JobInfo(j.id, name or "?", kwargs or {}, status,
                       j.enqueued_at or j.created_at, j.ended_at, j.meta.get("progress"),
                       j.meta.get("message", ""), error,
                       (j.meta.get("attempts") or 0), result, j.meta.get("key"))

    def get(self, job_id: str) -> JobInfo | None:
        from rq.exceptions import NoSuchJobError
        from rq.job import Job

        try:
            return self._info(Job.fetch(job_id, connection=self.redis))
        except NoSuchJobError:
            return None

    def recent(self, limit: int = 100) -> list[JobInfo]:
        from rq.job import Job
        from rq.registry import FailedJobRegistry, FinishedJobRegistry, StartedJobRegistry

        ids = list(self.queue.get_job_ids())
        for reg in (StartedJobRegistry, FinishedJobRegistry, FailedJobRegistry):
            ids += reg(queue=self.queue).get_job_ids()
        jobs = [j for j in Job.fetch_many(list(dict.fromkeys(ids)), connection=self.redis) if j]
        jobs.sort(key=lambda j: j.enqueued_at or j.created_at, reverse=True)
        return [self._info(j) for j in jobs[:limit]]

    def rerun(self, job_id: str) -> JobInfo:
        from rq.registry import FailedJobRegistry

        reg = FailedJobRegistry(queue=self.queue)
        if job_id in reg.get_job_ids():
            reg.requeue(job_id)
            return self.get(job_id)
        old = self.get(job_id)
        if old is None:
            raise KeyError(f"no job {job_id!r}")
        return self.enqueue(old.name, old.kwargs, None)

    def depth(self) -> int:
        return self.queue.count

    def failed(self) -> int:
        from rq.registry import FailedJobRegistry

        return FailedJobRegistry(queue=self.queue).count

    def ping(self) -> bool:
        try:
            return bool(self.redis.ping())
        except Exception:  # noqa: BLE001 - any connection problem means "not reachable"
            return False


def rq_progress_hook() -> None:
    """In an RQ worker: report progress into the job's meta (read by the admin page)."""
    from rq import get_current_job

    def report(fraction: float, message: str) -> None:
        j = get_current_job()
        if j is not None:
            j.meta.update(progress=fraction, message=message)
            j.save_meta()

    _current.report = report


_backend: InlineBackend | RQBackend | None = None
_backend_lock = threading.Lock()


def backend() -> InlineBackend | RQBackend:
    global _backend
    with _backend_lock:
        if _backend is None:
            from ictgov.config import get_settings

            url = get_settings().redis_url
            _backend = RQBackend(url) if url else InlineBackend()
        return _backend


def use(b: InlineBackend | RQBackend | None) -> None:
    """Replace the backend (tests; None: chosen again from the settings)."""
    global _backend
    with _backend_lock:
        _backend = b


def enqueue(name: str, *, idempotency_key: str | None = None, **kwargs: Any) -> JobInfo:
    """Start job `name` with `kwargs`; while a job with the same idempotency key is queued or
    running, that job is returned instead of a second one."""
    _spec(name)  # unknown names fail here, in the caller, not later in a worker
    return backend().enqueue(name, kwargs, idempotency_key)


def get(job_id: str) -> JobInfo | None:
    return backend().get(job_id)


def recent(limit: int = 100) -> list[JobInfo]:
    return backend().recent(limit)


def rerun(job_id: str) -> JobInfo:
    return backend().rerun(job_id)


@dataclass
class WorkerStats:
    processed: int = 0
    failed: int = 0
    names: list[str] = field(default_factory=list)


def work(burst: bool = False) -> None:
    """`ictgov worker`: run jobs from the Redis queue until stopped (or, burst, until empty)."""
    b = backend()
    if isinstance(b, InlineBackend):
        # a missing setting, not a wrong argument: say which one
        raise RuntimeError("no queue configured: set ICTGOV_REDIS_URL (without it, jobs run in the "  # noqa: TRY004
                           "web process and no worker is needed)")
    _load_declarations()
    worker_class()([b.queue], connection=b.redis).work(burst=burst, with_scheduler=True)


def worker_class(simple: bool = False):
    """RQ's worker that counts attempts and lets jobs report progress (simple: no fork, tests)."""
    from rq import SimpleWorker, Worker

    class ProgressWorker(SimpleWorker if simple else Worker):
        def main_work_horse(self, *args, **kwargs):
            # In the forked child: the database connections pooled by the parent belong to the
            # parent; using them here would corrupt its sessions (psycopg's prepared statements,
            # SQLite locks). Forget them without closing them, so the child opens its own.
            from ictgov.db import _engines

            for engine in list(_engines.values()):
                engine.dispose(close=False)
            return super().main_work_horse(*args, **kwargs)

        def perform_job(self, job, queue, *args, **kwargs):
            job.meta["attempts"] = int(job.meta.get("attempts") or 0) + 1
            job.save_meta()
            rq_progress_hook()
            return super().perform_job(job, queue, *args, **kwargs)

    return ProgressWorker
