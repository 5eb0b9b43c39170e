"""The self-assessments as observations in the stats store, so the period review counts them.

For each year with submitted assessments, each enterprise counts once, by its latest
assessment submitted that year. By province: enterprises assessed, how many are at each
level, and the average score of each pillar (a mean weighted by enterprises assessed, so
the nation's figure is the mean over all enterprises). For the nation: the distribution of
levels by sector and by size class. Re-running changes only the figures that moved.

The codes are built from the framework's pillars and the sector and size lists; every one
is defined in ``data/definitions/elements.yaml`` (dx section, ``computed_by: dx``).
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from ictgov.dx.models import SECTORS, SIZE_CLASSES, Assessment, Enterprise
from ictgov.stats.ingest import ImportReport, record_observations

SOURCE = "ictgov enterprise self-assessments (computed by `ictgov dx sync-stats`)"
LEVELS = range(6)


def element_codes(pillars: list[str]) -> list[str]:
    """Every element this module can write (for the definitions test)."""
    codes = ["dx_enterprises_assessed", *(f"dx_level_{n}" for n in LEVELS),
             *(f"dx_pillar_avg_{p}" for p in pillars)]
    codes += [f"dx_level_{n}_sector_{s}" for s in SECTORS for n in LEVELS]
    codes += [f"dx_level_{n}_size_{z}" for z in SIZE_CLASSES for n in LEVELS]
    return codes


def figures(session: Session) -> list[dict]:
    latest: dict[tuple[int, int], tuple] = {}
    q = (select(Assessment.enterprise_id, Assessment.submitted_at, Assessment.level, Assessment.result,
                Enterprise.province_code, Enterprise.sector, Enterprise.size_class)
         .join(Enterprise, Enterprise.id == Assessment.enterprise_id)
         .where(Assessment.status == "submitted")
         .order_by(Assessment.submitted_at, Assessment.id))
    for row in session.execute(q):
        latest[(row.enterprise_id, row.submitted_at.year)] = row
    counts: dict[tuple[str, str, str], float] = defaultdict(float)
    pillar_sums: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for (_, year), row in latest.items():
        period, prov = str(year), row.province_code
        counts[("dx_enterprises_assessed", prov, period)] += 1
        counts[(f"dx_level_{row.level}", prov, period)] += 1
        counts[(f"dx_level_{row.level}_sector_{row.sector}", "VN", period)] += 1
        counts[(f"dx_level_{row.level}_size_{row.size_class}", "VN", period)] += 1
        for p in row.result["pillars"]:
            pillar_sums[(f"dx_pillar_avg_{p['code']}", prov, period)].append(float(p["score"]))
    rows = [{"indicator": code, "area": area, "period": period, "value": value,
             "unit": "enterprises", "source": SOURCE}
            for (code, area, period), value in sorted(counts.items())]
    rows += [{"indicator": code, "area": area, "period": period, "value": round(sum(v) / len(v), 4),
              "unit": "points", "source": SOURCE}
             for (code, area, period), v in sorted(pillar_sums.items())]
    return rows


def sync(session: Session, user=None) -> ImportReport | None:
    rows = figures(session)
    if not rows:
        return None
    return record_observations(session, rows, "dx self-assessments", user=user)
