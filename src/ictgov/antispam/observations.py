"""The anti-spam work as observations in the stats store, so the period review counts it.

For every day, month, half-year and year (Vietnam time) with activity, for the nation (VN)
and for each operator (its reporting unit: VIETTEL, VINAPHONE ...):

- reports received, in all and by kind (spam SMS, spam call, scam call, forwarded ad);
  by operator: the reports routed to it;
- numbers flagged by scans (when flagged) and numbers put on a blocklist (when added);
- spam SMS and spam calls detected: what flagged numbers sent on their flagged days
  (``SpamTraffic``, loaded from a scan's ``--days-out``).

The daily series are in the stats store like the others (period codes 2021-06-15), so the
engine compares a day with the same day a year before; ``daily`` also reads them, with each
operator's part, from ``SpamTraffic``. Re-running `sync` changes only the figures that moved.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ictgov.antispam.models import REPORT_KINDS, BlockEntry, FlaggedNumber, SpamReport, SpamTraffic
from ictgov.stats.ingest import ImportReport, record_observations
from ictgov.stats.models import Area

SOURCE = "ictgov anti-spam records (computed by `ictgov antispam sync-stats`)"
VN_OFFSET = timedelta(hours=7)
UNITS = {
    "antispam_reports": "reports",
    "antispam_numbers": "numbers",
    "antispam_spam_sms": "messages",
    "antispam_spam_calls": "calls",
}
ELEMENTS = (
    "antispam_reports_received", *(f"antispam_reports_{k}" for k in REPORT_KINDS),
    "antispam_numbers_flagged", "antispam_numbers_blocked",
    "antispam_spam_sms_detected", "antispam_spam_calls_detected",
)


def _periods(d: date) -> list[str]:
    half = 1 if d.month <= 6 else 2
    return [d.isoformat(), f"{d.year}-{d.month:02d}", f"{d.year}H{half}", str(d.year)]


def _local(at: datetime) -> date:
    return (at + VN_OFFSET).date()


def _unit(code: str) -> str:
    return next(u for prefix, u in UNITS.items() if code.startswith(prefix))


def figures(session: Session) -> list[dict]:
    counts: dict[tuple[str, str, str], float] = defaultdict(float)

    def add(code: str, operator: str | None, d: date, n: float = 1) -> None:
        for p in _periods(d):
            counts[(code, "VN", p)] += n
            if operator:
                counts[(code, operator, p)] += n

    for kind, operator, created in session.execute(
            select(SpamReport.kind, SpamReport.operator_code, SpamReport.created_at)):
        d = _local(created)
        add("antispam_reports_received", operator, d)
        if kind in REPORT_KINDS:
            add(f"antispam_reports_{kind}", operator, d)
    for operator, at in session.execute(select(FlaggedNumber.operator_code, FlaggedNumber.flagged_at)):
        add("antispam_numbers_flagged", operator, _local(at))
    for operator, at in session.execute(select(BlockEntry.operator_code, BlockEntry.added_at)):
        add("antispam_numbers_blocked", operator, _local(at))
    for day, operator, sms, calls in session.execute(
            select(SpamTraffic.day, SpamTraffic.operator_code, SpamTraffic.spam_sms, SpamTraffic.spam_calls)):
        add("antispam_spam_sms_detected", operator, day, sms)
        add("antispam_spam_calls_detected", operator, day, calls)
    known = set(session.scalars(select(Area.code).where(Area.code.in_({a for _, a, _ in counts}))))
    return [{"indicator": code, "area": area, "period": p, "value": v, "unit": _unit(code), "source": SOURCE}
            for (code, area, p), v in sorted(counts.items()) if area in known]


def sync(session: Session, user=None) -> ImportReport | None:
    rows = figures(session)
    if not rows:
        return None
    return record_observations(session, rows, "antispam records", user=user)


def daily(session: Session, first: date | None = None, last: date | None = None) -> list[dict]:
    """Spam SMS and calls detected per day (all operators), with the numbers behind them."""
    q = select(SpamTraffic.day, SpamTraffic.operator_code, SpamTraffic.spam_sms, SpamTraffic.spam_calls,
               SpamTraffic.numbers).order_by(SpamTraffic.day)
    if first:
        q = q.where(SpamTraffic.day >= first)
    if last:
        q = q.where(SpamTraffic.day <= last)
    out: dict[date, dict] = {}
    for day, operator, sms, calls, numbers in session.execute(q):
        row = out.setdefault(day, {"day": day.isoformat(), "spam_sms": 0, "spam_calls": 0, "numbers": 0,
                                   "by_operator": {}})
        row["spam_sms"] += sms
        row["spam_calls"] += calls
        row["numbers"] += numbers
        row["by_operator"][operator] = {"spam_sms": sms, "spam_calls": calls}
    return list(out.values())


def change(session: Session, code: str, base: str, current: str, area: str = "VN") -> dict | None:
    """The change of one element between two periods of the stats store, in per cent
    (e.g. spam calls in 2021-06 against 2020-12: "down 31.9 %"); None when one is missing."""
    from ictgov.stats.figures import Figures

    fig = Figures.load(session)
    area_id = fig.area(area).id
    a, b = fig.value(code, area_id, base), fig.value(code, area_id, current)
    if a is None or b is None or a == 0:
        return None
    return {"element": code, "area": area, "base": base, "current": current, "base_value": a,
            "value": b, "change_pct": round((b - a) / a * 100, 1)}
