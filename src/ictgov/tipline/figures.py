"""The centre's public statistics, computed from its tables, and the charts that show them.

Reports received (by channel, category and month), cases, verdicts published (by verdict,
category and month) and the median time from a claim's first report to its published
verdict. Months are calendar months in Vietnam's time (UTC+7, no daylight saving), the
way the centre counts them. Everything returned is plain dicts and lists, so the page,
the JSON API and the period review read the same figures.

Also here: the vi/en labels of the centre's categories, platforms and channels (the
domain's codes are in ``tipline.models``), used by the public pages, charts and feed.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ictgov.db import utcnow
from ictgov.tipline.models import CATEGORIES, CHANNELS, PLATFORMS, VERDICTS, Case, Report
from ictgov.tipline.workflow import VERDICT_LABELS

CATEGORY_LABELS: dict[str, tuple[str, str]] = {
    "policy_law": ("Chính sách, pháp luật", "Policy and law"),
    "economy_finance": ("Kinh tế, tài chính", "Economy and finance"),
    "health": ("Y tế; sản phẩm y tế liên quan sức khỏe con người", "Health and medical products"),
    "disasters_epidemics": ("Thiên tai, dịch bệnh", "Natural disasters and epidemics"),
    "security_order": ("An ninh quốc gia, trật tự an toàn xã hội", "National security and social order"),
    "fake_accounts": ("Tài khoản giả mạo", "Fake accounts"),
    "scam_links": ("Đường link lừa đảo", "Scam or phishing links"),
    "other": ("Lĩnh vực khác", "Other"),
}
PLATFORM_LABELS: dict[str, tuple[str, str]] = {
    "facebook": ("Facebook", "Facebook"),
    "zalo": ("Zalo", "Zalo"),
    "tiktok": ("TikTok", "TikTok"),
    "youtube": ("YouTube", "YouTube"),
    "website": ("Trang web", "Website"),
    "sms": ("Tin nhắn SMS", "SMS"),
    "other": ("Khác", "Other"),
}
CHANNEL_LABELS: dict[str, tuple[str, str]] = {
    "web": ("Cổng thông tin", "Web portal"),
    "hotline": ("Tổng đài 18008108", "Hotline 18008108"),
    "api": ("Kênh đối tác", "Partner channels"),
    "email": ("Thư điện tử", "E-mail"),
    "chatbot": ("Chatbot", "Chatbot"),
}
assert set(CATEGORY_LABELS) == set(CATEGORIES) and set(PLATFORM_LABELS) == set(PLATFORMS)
assert set(CHANNEL_LABELS) == set(CHANNELS)

VN_OFFSET = timedelta(hours=7)
OPEN_STATES = ("new", "triaged", "assigned", "verifying", "decided")
VERDICT_COLORS = {"fake": "#a3141b", "false": "#e07b00", "true": "#1b6e3a", "unverifiable": "#7b8494"}


def label(labels: dict[str, tuple[str, str]], code: str, lang: str) -> str:
    pair = labels.get(code)
    if pair is None:
        return code
    return pair[0] if lang == "vi" else pair[1]


def _month(session: Session, column):
    """An SQL expression for the month (YYYY-MM, Vietnam time) of a UTC timestamp column."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        return func.strftime("%Y-%m", column, "+7 hours")
    if dialect == "postgresql":
        return func.to_char(column + VN_OFFSET, "YYYY-MM")
    return None


def _by_month(session: Session, column, *extra, where=()) -> list[tuple]:
    """Rows (month, *extra, count) grouped by month (and the extra columns)."""
    month = _month(session, column)
    if month is not None:
        stmt = select(month.label("m"), *extra, func.count()).where(*where).group_by(month, *extra)
        return [tuple(r) for r in session.execute(stmt)]
    counts: dict[tuple, int] = defaultdict(int)  # another backend: group here
    for row in session.execute(select(column, *extra).where(*where)):
        counts[((row[0] + VN_OFFSET).strftime("%Y-%m"), *row[1:])] += 1
    return [(*k, n) for k, n in counts.items()]


def public_figures(session: Session) -> dict[str, Any]:
    """Every figure of the public statistics page (no personal data: counts only)."""
    reports_total = session.scalar(select(func.count()).select_from(Report)) or 0
    by_channel = dict(session.execute(select(Report.channel, func.count()).group_by(Report.channel)).all())
    by_category = dict(session.execute(select(Report.category, func.count()).group_by(Report.category)).all())
    reports_month = sorted(_by_month(session, Report.created_at))

    states = dict(session.execute(select(Case.state, func.count()).group_by(Case.state)).all())
    published = states.get("published", 0)
    cases = {
        # Duplicates were merged into another case: they are not claims of their own.
        "total": sum(n for s, n in states.items() if s != "closed_duplicate"),
        "open": sum(states.get(s, 0) for s in OPEN_STATES),
        "published": published,
        "closed_out_of_scope": states.get("closed_out_of_scope", 0),
    }

    is_published = (Case.state == "published",)
    by_verdict = dict(session.execute(
        select(Case.verdict, func.count()).where(*is_published).group_by(Case.verdict)).all())
    verdict_category = session.execute(
        select(Case.category, Case.verdict, func.count()).where(*is_published)
        .group_by(Case.category, Case.verdict)).all()
    verdict_month = _by_month(session, Case.published_at, Case.verdict,
                              where=(*is_published, Case.published_at.is_not(None)))

    # First report of each published claim -> publication of its verdict.
    spans = session.execute(
        select(Case.published_at, func.min(Report.created_at))
        .join(Report, Report.case_id == Case.id)
        .where(*is_published, Case.published_at.is_not(None))
        .group_by(Case.id, Case.published_at)).all()
    days = [max(0.0, (pub - first).total_seconds() / 86400) for pub, first in spans if pub and first]

    return {
        "generated_at": utcnow().isoformat(timespec="seconds") + "Z",
        "reports": {
            "total": reports_total,
            "by_channel": {c: by_channel.get(c, 0) for c in CHANNELS},
            "by_category": {c: by_category.get(c, 0) for c in CATEGORIES},
            "by_month": [{"month": m, "count": n} for m, n in reports_month],
        },
        "cases": cases,
        "verdicts": {
            "total": published,
            "by_verdict": {v: by_verdict.get(v, 0) for v in VERDICTS},
            "by_category": sorted(
                ({"category": c, "verdict": v, "count": n} for c, v, n in verdict_category),
                key=lambda r: (CATEGORIES.index(r["category"]) if r["category"] in CATEGORIES else 99,
                               VERDICTS.index(r["verdict"]) if r["verdict"] in VERDICTS else 99)),
            "by_month": sorted(
                ({"month": m, "verdict": v, "count": n} for m, v, n in verdict_month),
                key=lambda r: (r["month"], VERDICTS.index(r["verdict"]) if r["verdict"] in VERDICTS else 99)),
        },
        "median_days_to_verdict": round(statistics.median(days), 2) if days else None,
        "verdicts_timed": len(days),
    }


def category_table(fig: dict[str, Any]) -> list[dict[str, Any]]:
    """Per category: reports received and verdicts by verdict (for the page's table)."""
    rows = {c: {"category": c, "reports": fig["reports"]["by_category"].get(c, 0),
                "verdicts": {v: 0 for v in VERDICTS}, "total": 0} for c in CATEGORIES}
    for r in fig["verdicts"]["by_category"]:
        row = rows.get(r["category"])
        if row is not None and r["verdict"] in row["verdicts"]:
            row["verdicts"][r["verdict"]] += r["count"]
            row["total"] += r["count"]
    return list(rows.values())


def month_table(fig: dict[str, Any]) -> list[dict[str, Any]]:
    """Per month (newest first): reports received and verdicts published."""
    months: dict[str, dict[str, Any]] = {}
    for r in fig["reports"]["by_month"]:
        months.setdefault(r["month"], {"month": r["month"], "reports": 0, "verdicts": 0})["reports"] += r["count"]
    for r in fig["verdicts"]["by_month"]:
        months.setdefault(r["month"], {"month": r["month"], "reports": 0, "verdicts": 0})["verdicts"] += r["count"]
    return sorted(months.values(), key=lambda r: r["month"], reverse=True)


# --- charts (Vega-Lite specs via Altair, like ictgov.stats.charts) ----------------------------

_TEXT = {
    "month": ("Tháng", "Month"),
    "reports": ("Phản ánh", "Reports"),
    "verdicts": ("Kết luận", "Verdicts"),
    "channel": ("Kênh", "Channel"),
    "category": ("Lĩnh vực", "Category"),
    "verdict": ("Kết luận", "Verdict"),
}


def _t(key: str, lang: str) -> str:
    return label(_TEXT, key, lang)


def _month_label(month: str, lang: str) -> str:
    year, mm = month.split("-")
    return f"{mm}/{year}" if lang == "vi" else month


def _verdict_scale(lang: str):
    import altair as alt

    names = [VERDICT_LABELS[v][0 if lang == "vi" else 1] for v in VERDICTS]
    return alt.Scale(domain=names, range=[VERDICT_COLORS[v] for v in VERDICTS])


def reports_by_month_chart(fig: dict[str, Any], lang: str = "vi") -> dict[str, Any] | None:
    """Reports received per month (bars)."""
    import altair as alt

    rows = fig["reports"]["by_month"]
    if not rows:
        return None
    values = [{"month": _month_label(r["month"], lang), "count": r["count"]} for r in rows]
    order = [v["month"] for v in values]
    chart = alt.Chart(alt.Data(values=values)).mark_bar(color=VERDICT_COLORS["fake"]).encode(
        x=alt.X("month:N", sort=order, title=_t("month", lang), axis=alt.Axis(labelAngle=0)),
        y=alt.Y("count:Q", title=_t("reports", lang), axis=alt.Axis(tickMinStep=1, format="d")),
        tooltip=[alt.Tooltip("month:N", title=_t("month", lang)),
                 alt.Tooltip("count:Q", title=_t("reports", lang))],
    ).properties(width="container", height=220)
    return chart.to_dict(validate=False)


def verdicts_by_category_chart(fig: dict[str, Any], lang: str = "vi") -> dict[str, Any] | None:
    """Verdicts published per category, stacked by verdict (horizontal bars)."""
    import altair as alt

    rows = fig["verdicts"]["by_category"]
    if not rows:
        return None
    i = 0 if lang == "vi" else 1
    values = [{"category": label(CATEGORY_LABELS, r["category"], lang),
               "verdict": VERDICT_LABELS.get(r["verdict"], (r["verdict"],) * 2)[i], "count": r["count"]}
              for r in rows]
    order = [label(CATEGORY_LABELS, c, lang) for c in CATEGORIES]
    chart = alt.Chart(alt.Data(values=values)).mark_bar().encode(
        y=alt.Y("category:N", sort=order, title=None, axis=alt.Axis(labelLimit=260)),
        x=alt.X("count:Q", title=_t("verdicts", lang), stack="zero", axis=alt.Axis(tickMinStep=1, format="d")),
        color=alt.Color("verdict:N", scale=_verdict_scale(lang), title=_t("verdict", lang),
                        legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("category:N", title=_t("category", lang)),
                 alt.Tooltip("verdict:N", title=_t("verdict", lang)),
                 alt.Tooltip("count:Q", title=_t("verdicts", lang))],
    ).properties(width="container", height=max(60, 28 * len({v["category"] for v in values})))
    return chart.to_dict(validate=False)


def verdicts_by_month_chart(fig: dict[str, Any], lang: str = "vi") -> dict[str, Any] | None:
    """Verdicts published per month, stacked by verdict."""
    import altair as alt

    rows = fig["verdicts"]["by_month"]
    if not rows:
        return None
    i = 0 if lang == "vi" else 1
    values = [{"month": _month_label(r["month"], lang),
               "verdict": VERDICT_LABELS.get(r["verdict"], (r["verdict"],) * 2)[i], "count": r["count"]}
              for r in rows]
    order = sorted({r["month"] for r in rows})
    chart = alt.Chart(alt.Data(values=values)).mark_bar().encode(
        x=alt.X("month:N", sort=[_month_label(m, lang) for m in order], title=_t("month", lang),
                axis=alt.Axis(labelAngle=0)),
        y=alt.Y("count:Q", title=_t("verdicts", lang), stack="zero", axis=alt.Axis(tickMinStep=1, format="d")),
        color=alt.Color("verdict:N", scale=_verdict_scale(lang), title=_t("verdict", lang),
                        legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("month:N", title=_t("month", lang)),
                 alt.Tooltip("verdict:N", title=_t("verdict", lang)),
                 alt.Tooltip("count:Q", title=_t("verdicts", lang))],
    ).properties(width="container", height=220)
    return chart.to_dict(validate=False)


def charts(fig: dict[str, Any], lang: str = "vi") -> dict[str, dict[str, Any]]:
    """The statistics page's charts that have data, by name."""
    specs = {
        "reports-month": reports_by_month_chart(fig, lang),
        "verdicts-category": verdicts_by_category_chart(fig, lang),
        "verdicts-month": verdicts_by_month_chart(fig, lang),
    }
    return {k: v for k, v in specs.items() if v is not None}
