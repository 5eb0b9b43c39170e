"""The centre's work as observations in the stats store, so the period review counts it.

Computed from the centre's own records for every month, half-year and year that has
reports: reports by channel and by field (the centre's eight categories), cases opened, verdicts published (and how many were fake or
false), and the median days from first report to verdict. Re-running changes only the
figures that moved (the import makes a new revision of a changed value, nothing else).

They are recorded by `ictgov tipline sync-stats`, by `ictgov sample load` after the demo, and
by the job ``tipline.sync_stats`` that publishing a verdict starts once the verdict is
committed, so the period review counts a verdict the day it is published.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ictgov.jobs import job
from ictgov.stats.ingest import ImportReport, record_observations
from ictgov.tipline.models import CATEGORIES, CHANNELS, Case, Report

SOURCE = "ictgov fake-news centre records (computed by `ictgov tipline sync-stats`)"


def _periods(at: datetime) -> list[str]:
    half = 1 if at.month <= 6 else 2
    return [f"{at.year}-{at.month:02d}", f"{at.year}H{half}", str(at.year)]


def figures(session: Session) -> list[dict]:
    counts: dict[tuple[str, str], float] = defaultdict(float)
    for channel, category, created in session.execute(
            select(Report.channel, Report.category, Report.created_at)):
        for p in _periods(created):
            counts[("tipline_reports_received", p)] += 1
            if channel in CHANNELS:
                counts[(f"tipline_reports_{channel}", p)] += 1
            if category in CATEGORIES:
                counts[(f"tipline_reports_cat_{category}", p)] += 1
    for (created,) in session.execute(select(Case.created_at).where(~Case.state.startswith("closed_duplicate"))):
        for p in _periods(created):
            counts[("tipline_cases_opened", p)] += 1
    first_report = dict(session.execute(select(Report.case_id, func.min(Report.created_at)).group_by(Report.case_id)).all())
    days: dict[str, list[float]] = defaultdict(list)
    for case_id, verdict, published in session.execute(
            select(Case.id, Case.verdict, Case.published_at).where(Case.state == "published")):
        for p in _periods(published):
            counts[("tipline_verdicts_published", p)] += 1
            if verdict in ("fake", "false"):
                counts[("tipline_verdicts_fake", p)] += 1
            if case_id in first_report:
                days[p].append((published - first_report[case_id]).total_seconds() / 86400)
    rows = [{"indicator": code, "area": "VN", "period": p, "value": v, "unit": _unit(code), "source": SOURCE}
            for (code, p), v in sorted(counts.items())]
    rows += [{"indicator": "tipline_median_days_to_verdict", "area": "VN", "period": p,
              "value": round(statistics.median(v), 2), "unit": "days", "source": SOURCE}
             for p, v in sorted(days.items())]
    return rows


def _unit(code: str) -> str:
    if code.startswith("tipline_reports"):
        return "reports"
    if code == "tipline_cases_opened":
        return "cases"
    return "verdicts"


def sync(session: Session, user=None) -> ImportReport | None:
    rows = figures(session)
    if not rows:
        return None
    return record_observations(session, rows, "tipline records", user=user)


SYNC_JOB = "tipline.sync_stats"


@job(SYNC_JOB, retries=3, backoff=(10, 60, 300))
def sync_in_background() -> dict[str, int]:
    """Record the centre's figures now (started after a verdict is published). Idempotent: a
    second run changes nothing; two at once conflict at worst, and the loser is retried."""
    from ictgov.db import session_scope
    from ictgov.stats.models import Area

    with session_scope() as s:
        if s.scalar(select(Area.id).where(Area.code == "VN")) is None:
            # a database without the reference areas (`ictgov sample load` loads them):
            # nothing to record against, and retrying will not change that
            return {"skipped": 1}
        report = sync(s)
    if report is None:
        return {"created": 0, "revised": 0, "unchanged": 0}
    return {"created": report.created, "revised": report.revised, "unchanged": report.unchanged}
