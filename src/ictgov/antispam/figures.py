"""The ministry's anti-spam figures, computed from the service's tables, and their charts.

Reports by kind and month, reports and numbers by operator (routed, answered, flagged,
confirmed, blocked), spam SMS and calls detected per day, and the do-not-call list's size.
Months are Vietnam time. Plain dicts, so the page and the JSON API read the same figures.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ictgov.antispam.models import REPORT_KINDS, BlockEntry, DncEntry, FlaggedNumber, SpamReport
from ictgov.antispam.observations import daily

VN_OFFSET = timedelta(hours=7)
KIND_LABELS = {"sms": ("Tin nhắn rác", "Spam SMS"), "call": ("Cuộc gọi rác", "Spam call"),
               "scam_call": ("Cuộc gọi lừa đảo", "Scam call"),
               "forward": ("Bản sao tin quảng cáo", "Forwarded ad")}
assert set(KIND_LABELS) == set(REPORT_KINDS)


def figures(session: Session, days: int = 60) -> dict[str, Any]:
    by_month: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(REPORT_KINDS, 0))
    by_operator: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for kind, operator, status, created in session.execute(
            select(SpamReport.kind, SpamReport.operator_code, SpamReport.status, SpamReport.created_at)):
        by_month[(created + VN_OFFSET).strftime("%Y-%m")][kind] += 1
        op = by_operator[operator or "-"]
        op["reports"] += 1
        op["answered"] += status == "answered"
    for operator, status, n in session.execute(
            select(FlaggedNumber.operator_code, FlaggedNumber.status, func.count())
            .group_by(FlaggedNumber.operator_code, FlaggedNumber.status)):
        by_operator[operator or "-"][f"flags_{status}"] += n
        by_operator[operator or "-"]["flagged"] += n
    for operator, n in session.execute(select(BlockEntry.operator_code, func.count())
                                       .where(BlockEntry.unblocked_at.is_(None))
                                       .group_by(BlockEntry.operator_code)):
        by_operator[operator or "-"]["on_blocklist"] += n
    traffic = daily(session)[-days:]
    return {
        "reports_total": sum(sum(v.values()) for v in by_month.values()),
        "by_month": [{"month": m, **v, "total": sum(v.values())} for m, v in sorted(by_month.items())],
        "by_operator": [{"operator": k, **{f: int(v.get(f, 0)) for f in (
            "reports", "answered", "flagged", "flags_confirmed", "flags_blocked", "flags_cleared", "on_blocklist")}}
            for k, v in sorted(by_operator.items())],
        "daily": [{k: v for k, v in d.items() if k != "by_operator"} for d in traffic],
        "dnc_listed": session.scalar(select(func.count()).select_from(DncEntry).where(DncEntry.listed.is_(True))),
    }


def charts(fig: dict[str, Any], lang: str = "vi") -> dict[str, dict[str, Any]]:
    """Vega-Lite specs: reports per month by kind; spam calls and SMS detected per day."""
    import altair as alt

    i = 0 if lang == "vi" else 1
    out: dict[str, dict[str, Any]] = {}
    if fig["by_month"]:
        values = [{"month": r["month"], "kind": KIND_LABELS[k][i], "count": r[k]}
                  for r in fig["by_month"] for k in REPORT_KINDS if r[k]]
        out["reports-month"] = alt.Chart(alt.Data(values=values)).mark_bar().encode(
            x=alt.X("month:N", title="Tháng" if i == 0 else "Month", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("count:Q", title="Phản ánh" if i == 0 else "Reports", axis=alt.Axis(format="d")),
            color=alt.Color("kind:N", title="Loại" if i == 0 else "Kind"),
            tooltip=["month:N", "kind:N", "count:Q"],
        ).properties(width="container", height=220).to_dict(validate=False)
    if fig["daily"]:
        calls, sms = ("Cuộc gọi rác", "Tin nhắn rác") if i == 0 else ("Spam calls", "Spam SMS")
        values = [{"day": d["day"], "series": name, "count": d[key]}
                  for d in fig["daily"] for name, key in ((calls, "spam_calls"), (sms, "spam_sms"))]
        out["traffic-day"] = alt.Chart(alt.Data(values=values)).mark_line(point=True).encode(
            x=alt.X("day:T", title="Ngày" if i == 0 else "Day"),
            y=alt.Y("count:Q", title="Số lượng" if i == 0 else "Count", axis=alt.Axis(format="d")),
            color=alt.Color("series:N", title=""),
            tooltip=["day:T", "series:N", "count:Q"],
        ).properties(width="container", height=220).to_dict(validate=False)
    return out
