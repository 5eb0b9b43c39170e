"""The SME programme's uptake as observations in the stats store, month by month.

For each month from the first platform or uptake to the current one (Vietnam time), the state
at the month's end (``smedx_uptake.monthly``): platforms listed, their providers, enterprises
reached and using, for the nation (area VN), and platforms, reached and using by platform
group. Re-running changes only the figures that moved (the current month's, as it goes on).

These are the platform's own counts. The figures the ministry published for the programme
(45 platforms from 27 providers, 490,923 enterprises reached and 62,047 using at 30 Sep 2022)
are other elements, ``smedx_*_pub``, bundled in ``data/sample/smedx_published.csv`` with
their sources, so the two never revise each other and the review can show both.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ictgov.dx.models import PLATFORM_GROUPS
from ictgov.dx.smedx_uptake import monthly
from ictgov.stats.ingest import ImportReport, record_observations

SOURCE = "ictgov SME programme records (computed by `ictgov dx sync-stats`)"
TOTALS = {"smedx_platforms_listed": ("platforms", "platforms"), "smedx_providers": ("providers", "providers"),
          "smedx_enterprises_reached": ("reached", "enterprises"),
          "smedx_enterprises_using": ("using", "enterprises")}
BY_GROUP = {"smedx_platforms_listed": ("platforms", "platforms"),
            "smedx_enterprises_reached": ("reached", "enterprises"),
            "smedx_enterprises_using": ("using", "enterprises")}


def element_codes() -> list[str]:
    """Every element this module can write (for the definitions test)."""
    return [*TOTALS, *(f"{code}_{g}" for code in BY_GROUP for g in PLATFORM_GROUPS)]


def figures(session: Session) -> list[dict]:
    rows = []
    for point in monthly(session):
        period = point["period"]
        for code, (key, unit) in TOTALS.items():
            rows.append({"indicator": code, "area": "VN", "period": period, "value": point[key],
                         "unit": unit, "source": SOURCE})
        for g in PLATFORM_GROUPS:
            values = point["groups"].get(g)
            if values is None:
                continue
            for code, (key, unit) in BY_GROUP.items():
                rows.append({"indicator": f"{code}_{g}", "area": "VN", "period": period, "value": values[key],
                             "unit": unit, "source": SOURCE})
    return rows


def sync(session: Session, user=None) -> ImportReport | None:
    rows = figures(session)
    if not rows:
        return None
    return record_observations(session, rows, "dx SME programme", user=user)
