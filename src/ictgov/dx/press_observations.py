"""The press agencies' certified assessments as observations in the stats store.

For each year assessed (the year of the assessment, not the day it was certified): how many
agencies the appraisal council certified, and how many at each level, for the nation. Only
certified results count: a self-assessment the council has not yet reviewed is not a result.

These are the platform's own figures, under codes of their own (``dx_press_*``, ``computed_by:
dx``). The ministry's published national results (2023–2025: agencies assessed and their
distribution by level) are bundled in ``data/sample/figures.csv`` under ``press_*_pub``: the two
never share a code, so a year computed here can never overwrite, or be taken for, a published
figure, and the review shows them side by side.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from ictgov.dx.models import PressAssessment
from ictgov.stats.ingest import ImportReport, record_observations

SOURCE = "ictgov press maturity certificates (computed by `ictgov dx sync-stats`)"
LEVELS = range(5)  # Yếu, Trung bình, Khá, Tốt, Xuất sắc
ELEMENTS = ("dx_press_certified", *(f"dx_press_level_{n}" for n in LEVELS))


def figures(session: Session) -> list[dict]:
    counts: dict[tuple[str, str], float] = defaultdict(float)
    years = set()
    for year, level in session.execute(select(PressAssessment.year, PressAssessment.level)
                                       .where(PressAssessment.status == "certified")):
        years.add(year)
        counts[("dx_press_certified", str(year))] += 1
        counts[(f"dx_press_level_{level}", str(year))] += 1
    # Every level of a year with certificates, zeros included: "no agency at Xuất sắc" is a figure.
    for year in years:
        for n in LEVELS:
            counts.setdefault((f"dx_press_level_{n}", str(year)), 0.0)
    return [{"indicator": code, "area": "VN", "period": period, "value": value, "unit": "agencies",
             "source": SOURCE} for (code, period), value in sorted(counts.items())]


def sync(session: Session, user=None) -> ImportReport | None:
    rows = figures(session)
    if not rows:
        return None
    return record_observations(session, rows, "dx press certificates", user=user)
