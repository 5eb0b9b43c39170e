"""Operations: liveness, readiness, and Prometheus metrics.

- ``/healthz``: the process answers (no database involved, so a slow database does not
  get the process restarted);
- ``/readyz``: the database answers ``SELECT 1``; 503 otherwise, so a load balancer
  stops sending traffic;
- ``/metrics``: the default Prometheus registry, with request counts and latencies by
  route template (``/admin/users/{user_id}/deactivate``, never the raw path, so the
  number of series stays bounded). Services register their own metrics in the default
  registry and they appear here; reports received (by service and channel) and the job
  queue (queued, failed) are read when scraped. /metrics is not for the public: restrict it
  at the proxy (docs/operations.md).
"""

from __future__ import annotations

import logging
import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger("ictgov.web")

router = APIRouter(tags=["operations"])

REQUESTS = Counter(
    "ictgov_http_requests_total", "HTTP requests handled", ["method", "route", "status"]
)
LATENCY = Histogram(
    "ictgov_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_label(scope) -> str:
    """The matched route's template; never the raw path (unbounded label values)."""
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    if path:
        return path
    if scope.get("path", "").startswith("/static/"):
        return "/static/{path}"
    return "<unmatched>"


class MetricsMiddleware:
    """Pure ASGI: count and time every HTTP request by method, route template and status."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_status(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            method = scope["method"] if scope["method"] in KNOWN_METHODS else "OTHER"
            labels = (method, route_label(scope), str(status))
            REQUESTS.labels(*labels).inc()
            LATENCY.labels(*labels).observe(time.perf_counter() - start)


@router.get("/healthz")
def healthz() -> dict:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> Response:
    """The database answers, and the job queue when one is configured; 503 when not."""
    from ictgov import jobs

    body = {"status": "ok", "database": "ok", "queue": "in-process"}
    try:
        with request.app.state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError) as exc:
        log.warning("readyz: database not reachable (%s)", type(exc).__name__)
        body.update(status="unavailable", database="unreachable")
    b = jobs.backend()
    if isinstance(b, jobs.RQBackend):
        body["queue"] = "ok" if b.ping() else "unreachable"
        if body["queue"] != "ok":
            body["status"] = "unavailable"
    return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)


class JobsCollector:
    """Queue depth and failed jobs, read when Prometheus scrapes (never stale)."""

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        from ictgov import jobs

        b = jobs.backend()
        try:
            queued, failed = b.depth(), b.failed()
        except Exception:  # noqa: BLE001 - an unreachable queue must not break /metrics
            return
        yield GaugeMetricFamily("ictgov_jobs_queued", "Background jobs waiting in the queue", value=queued)
        yield GaugeMetricFamily("ictgov_jobs_failed", "Background jobs that failed all their attempts",
                                value=failed)


class ReportsCollector:
    """Reports received, by service and channel, counted in the database when Prometheus
    scrapes: right whichever of several web processes or workers took the report, and only
    reports that were committed (a rolled-back submission never counts)."""

    engine = None  # set by create_app: the database of the app being served

    def collect(self):
        from prometheus_client.core import CounterMetricFamily
        from sqlalchemy import func, select

        from ictgov.antispam.models import SpamReport
        from ictgov.tipline.models import Report

        if self.engine is None:
            return
        family = CounterMetricFamily("ictgov_reports_received", "Reports received from citizens and partners",
                                     labels=["service", "channel"])
        try:
            with self.engine.connect() as conn:
                for service, model in (("tipline", Report), ("antispam", SpamReport)):
                    rows = conn.execute(select(model.channel, func.count()).group_by(model.channel))
                    for channel, n in rows:
                        family.add_metric([service, channel], n)
        except (SQLAlchemyError, OSError):  # a database down must not break /metrics (readyz says it)
            return
        yield family


JOBS_COLLECTOR = JobsCollector()
REPORTS_COLLECTOR = ReportsCollector()
REGISTRY.register(JOBS_COLLECTOR)
REGISTRY.register(REPORTS_COLLECTOR)


@router.get("/metrics", include_in_schema=False)
def metrics() -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
