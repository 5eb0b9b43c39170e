"""Enterprises taking up programme platforms: interest, the free period, use; leads; uptake.

An enterprise finds platforms from its assessment's gaps (``catalogue.recommend``) and
either registers interest (the provider may contact it) or starts the free period. One
``Uptake`` row per enterprise and platform keeps the stage and its dates:

    interested -> trial -> using -> stopped      (interested -> using, trial -> stopped too)

The free period is for enterprises with fewer staff than the platform's limit (the
programme: "3–6 months free for SMEs with fewer than 50 staff"); the enterprise's head
count comes from its profile. It runs from its first day for ``free_months`` calendar
months, and is given once per enterprise and platform. Starting it also records an
``Adoption``, so the next assessment shows the effect on the criteria the platform helps.

A provider sees the leads on its own platforms: the enterprise's name, province, sector,
size, stage, dates, and the gaps of the assessment that led there. The ministry sees
platforms, providers, enterprises reached (any uptake) and using (trial or using), by
platform group and by month (``monthly``, which the stats figures use too).
"""

from __future__ import annotations

from calendar import monthrange
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ictgov.audit import record
from ictgov.db import utcnow
from ictgov.dx import catalogue
from ictgov.dx.models import Adoption, Assessment, Enterprise, Provider, Solution, Uptake

VN_OFFSET = timedelta(hours=7)  # months and days are Vietnam's
USING = ("trial", "using")
# stage -> the stages it may move to by the enterprise's own hand
MOVES = {"interested": ("trial", "using", "stopped"), "trial": ("using", "stopped"),
         "using": ("stopped",), "stopped": ()}


class UptakeError(ValueError):
    """A step the enterprise may not take; ``errors`` maps a field to why (``key``: an i18n key)."""

    def __init__(self, errors: dict[str, str], key: str | None = None, **params: Any):
        self.errors = errors
        self.key = key
        self.params = params
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def vn_date(value: datetime | date | None) -> date | None:
    if value is None or not isinstance(value, datetime):
        return value
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return (value + VN_OFFSET).date()


def today() -> date:
    return catalogue.vn_today()


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later; the month's last day when it has no such day (31 Jan + 1)."""
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


# -- eligibility -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Eligibility:
    ok: bool
    key: str  # an i18n key saying why (or what the enterprise gets)
    params: dict[str, Any]
    reason: str  # the same in English, for logs and the API


def free_period_eligibility(enterprise: Enterprise, solution: Solution, uptake: Uptake | None = None) -> Eligibility:
    """Whether the enterprise may start the platform's free period, and why not."""
    if not solution.free_months or not solution.free_max_staff:
        return Eligibility(False, "smedx.why.no_free_period", {}, "the platform offers no free period")
    if uptake is not None and uptake.trial_start is not None:
        return Eligibility(False, "smedx.why.already_had", {"start": uptake.trial_start, "end": uptake.trial_end},
                           f"the free period was already given, from {uptake.trial_start} to {uptake.trial_end}")
    if uptake is not None and uptake.stage in ("using", "stopped"):
        return Eligibility(False, f"smedx.why.stage_{uptake.stage}", {},
                           f"the enterprise is already at stage {uptake.stage}")
    if enterprise.employees is None:
        return Eligibility(False, "smedx.why.no_head_count", {"limit": solution.free_max_staff},
                           "the enterprise's staff head count is not in its profile")
    if enterprise.employees >= solution.free_max_staff:
        return Eligibility(False, "smedx.why.too_many_staff",
                           {"employees": enterprise.employees, "limit": solution.free_max_staff},
                           f"{enterprise.employees} staff: the free period is for enterprises with fewer than "
                           f"{solution.free_max_staff}")
    return Eligibility(True, "smedx.why.eligible", {"months": solution.free_months}, "eligible")


# -- the enterprise's steps -----------------------------------------------------------------


def uptake_of(session: Session, enterprise: Enterprise, solution: Solution) -> Uptake | None:
    return session.scalar(select(Uptake).where(Uptake.enterprise_id == enterprise.id,
                                               Uptake.solution_id == solution.id))


def uptakes_of(session: Session, enterprise: Enterprise) -> list[Uptake]:
    return list(session.scalars(select(Uptake).where(Uptake.enterprise_id == enterprise.id)
                                .order_by(Uptake.updated_at.desc(), Uptake.id.desc())))


def _as_dict(u: Uptake) -> dict[str, Any]:
    return {"enterprise": u.enterprise_id, "solution": u.solution_id, "stage": u.stage,
            "assessment": u.assessment_id,
            "interested_at": u.interested_at.isoformat() if u.interested_at else None,
            **{k: getattr(u, k).isoformat() if getattr(u, k) else None
               for k in ("trial_start", "trial_end", "using_since")},
            "stopped_at": u.stopped_at.isoformat() if u.stopped_at else None}


def _check_platform(solution: Solution) -> None:
    if solution.status != "approved" or not solution.active:
        raise UptakeError({"solution": "this platform is not listed in the programme"}, "smedx.why.not_listed")


def _check_assessment(session: Session, enterprise: Enterprise, assessment: Assessment | None) -> Assessment | None:
    """The assessment that led to the platform: the one given (from its result page), else the
    enterprise's latest submitted one (from the public list), so the provider's lead carries
    the gaps whichever way the enterprise came."""
    if assessment is not None and assessment.enterprise_id != enterprise.id:
        raise UptakeError({"assessment": "not this enterprise's assessment"})
    if assessment is None:
        from ictgov.dx.assessments import submitted

        done = [a for a in submitted(session, enterprise) if a.result]
        assessment = done[-1] if done else None
    return assessment


def register_interest(session: Session, enterprise: Enterprise, solution: Solution,
                      assessment: Assessment | None = None, actor=None) -> Uptake:
    """The enterprise asks the provider to contact it about the platform."""
    _check_platform(solution)
    assessment = _check_assessment(session, enterprise, assessment)
    u = uptake_of(session, enterprise, solution)
    if u is not None:
        raise UptakeError({"solution": f"already recorded: stage {u.stage}"}, f"smedx.already.{u.stage}")
    now = utcnow()
    u = Uptake(enterprise_id=enterprise.id, solution_id=solution.id, stage="interested",
               assessment_id=assessment.id if assessment else None, interested_at=now,
               created_at=now, updated_at=now)
    session.add(u)
    session.flush()
    record(session, actor, "interest", "dx_uptake", u.id, after=_as_dict(u))
    return u


def start_trial(session: Session, enterprise: Enterprise, solution: Solution,
                assessment: Assessment | None = None, actor=None, start: date | None = None) -> Uptake:
    """Start the free period (refused, with the reason, when the enterprise is not eligible)."""
    _check_platform(solution)
    assessment = _check_assessment(session, enterprise, assessment)
    u = uptake_of(session, enterprise, solution)
    el = free_period_eligibility(enterprise, solution, u)
    if not el.ok:
        raise UptakeError({"free_period": el.reason}, el.key, **el.params)
    start = start or today()
    if start > today():
        raise UptakeError({"start": "a date in the future"})
    before = _as_dict(u) if u is not None else None
    now = utcnow()
    if u is None:
        u = Uptake(enterprise_id=enterprise.id, solution_id=solution.id, created_at=now,
                   assessment_id=assessment.id if assessment else None)
        session.add(u)
    elif assessment is not None and u.assessment_id is None:
        u.assessment_id = assessment.id
    u.stage = "trial"
    u.trial_start = start
    u.trial_end = add_months(start, solution.free_months)
    u.updated_at = now
    session.flush()
    record(session, actor, "trial", "dx_uptake", u.id, before=before, after=_as_dict(u))
    # The adoption makes the next assessment show the platform's effect on its criteria.
    if session.scalar(select(Adoption.id).where(Adoption.enterprise_id == enterprise.id,
                                                Adoption.solution_id == solution.id)) is None:
        catalogue.adopt(session, enterprise, solution, start, actor)
    return u


def move(session: Session, uptake: Uptake, stage: str, actor=None, on: date | None = None) -> Uptake:
    """The enterprise marks a platform "now using" or "stopped"."""
    if stage not in ("using", "stopped"):
        raise UptakeError({"stage": "using or stopped"})
    if stage not in MOVES[uptake.stage]:
        raise UptakeError({"stage": f"cannot go from {uptake.stage} to {stage}"},
                          f"smedx.already.{uptake.stage}")
    before = _as_dict(uptake)
    on = on or today()
    if stage == "using":
        uptake.using_since = on
    else:
        uptake.stopped_at = utcnow()
    uptake.stage = stage
    uptake.updated_at = utcnow()
    record(session, actor, stage, "dx_uptake", uptake.id, before=before, after=_as_dict(uptake))
    return uptake


# -- the provider's leads -------------------------------------------------------------------------


def gaps_of(session: Session, uptake: Uptake) -> list[dict[str, Any]]:
    """The gaps of the assessment that led here which the platform helps: criterion, text, points."""
    a = session.get(Assessment, uptake.assessment_id) if uptake.assessment_id is not None else None
    if a is None or not a.result:
        return []
    helps = set(uptake.solution.criteria or [])
    return [{"criterion": ad["criterion"], "text": ad["text"], "gain": ad["gain"]}
            for ad in a.result.get("advice", []) if ad["criterion"] in helps]


def leads(session: Session, provider: Provider, solution: Solution | None = None) -> list[Uptake]:
    """Uptakes of the provider's platforms (of one of them when given), newest first."""
    q = (select(Uptake).join(Solution, Solution.id == Uptake.solution_id)
         .where(Solution.provider_id == provider.id)
         .order_by(Uptake.updated_at.desc(), Uptake.id.desc()))
    if solution is not None:
        q = q.where(Uptake.solution_id == solution.id)
    return list(session.scalars(q))


# -- the ministry's view and the figures ----------------------------------------------------------


def _listed_on(s: Solution) -> date | None:
    return vn_date(s.reviewed_at or s.created_at)


def _started_on(u: Uptake) -> date | None:
    starts = [d for d in (u.trial_start, u.using_since) if d is not None]
    return min(starts) if starts else None


def _provider_key(s: Solution) -> str:
    return f"id:{s.provider_id}" if s.provider_id is not None else f"name:{s.provider.casefold()}"


def _month_end(year: int, month: int) -> date:
    return date(year, month, monthrange(year, month)[1])


def monthly(session: Session, until: date | None = None) -> list[dict[str, Any]]:
    """At the end of each month (the current one: today), from the first event on:
    platforms listed, providers, enterprises reached and using, nationally and by group.

    A platform counts from its approval while it is approved and active (withdrawal dates are
    not kept: a withdrawn platform drops out of every month). An enterprise is reached from
    its first uptake, and using from the start of a free period or of use until it stops.
    Each enterprise counts once nationally and once in each group it reached.
    """
    until = until or today()
    platforms = [s for s in session.scalars(select(Solution).where(Solution.status == "approved",
                                                                     Solution.active.is_(True)))]
    rows = list(session.execute(select(Uptake, Solution.platform_group)
                                .join(Solution, Solution.id == Uptake.solution_id)))
    dates = [d for d in (_listed_on(s) for s in platforms) if d] + [vn_date(u.created_at) for u, _ in rows]
    if not dates:
        return []
    first = min(dates)
    out = []
    y, m = first.year, first.month
    while (y, m) <= (until.year, until.month) and len(out) < 600:
        end = min(_month_end(y, m), until)
        listed = [s for s in platforms if _listed_on(s) and _listed_on(s) <= end]
        point: dict[str, Any] = {"period": f"{y:04d}-{m:02d}", "end": end,
                                 "platforms": len(listed), "providers": len({_provider_key(s) for s in listed}),
                                 "groups": defaultdict(lambda: {"platforms": 0, "reached": set(), "using": set()})}
        for s in listed:
            if s.platform_group:
                point["groups"][s.platform_group]["platforms"] += 1
        reached, using = set(), set()
        for u, group in rows:
            if vn_date(u.created_at) > end:
                continue
            reached.add(u.enterprise_id)
            started = _started_on(u)
            stopped = vn_date(u.stopped_at)
            is_using = started is not None and started <= end and (stopped is None or stopped > end)
            if is_using:
                using.add(u.enterprise_id)
            if group:
                point["groups"][group]["reached"].add(u.enterprise_id)
                if is_using:
                    point["groups"][group]["using"].add(u.enterprise_id)
        point["reached"], point["using"] = len(reached), len(using)
        point["groups"] = {g: {"platforms": v["platforms"], "reached": len(v["reached"]), "using": len(v["using"])}
                           for g, v in point["groups"].items()}
        out.append(point)
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def summary(session: Session) -> dict[str, Any]:
    """Today's figures for the ministry's page: totals, by group, and the monthly series."""
    series = monthly(session)
    now = series[-1] if series else {"platforms": 0, "providers": 0, "reached": 0, "using": 0, "groups": {}}
    stages: dict[str, int] = defaultdict(int)
    for stage, in session.execute(select(Uptake.stage)):
        stages[stage] += 1
    waiting = len(list(session.scalars(select(Solution.id).where(Solution.status == "submitted"))))
    return {"now": now, "series": series, "stages": dict(stages), "waiting": waiting}


def offers(session: Session, enterprise: Enterprise, solutions: list[Solution]) -> dict[int, dict[str, Any]]:
    """For the result page: each platform's uptake by this enterprise and its free-period eligibility."""
    out = {}
    for s in solutions:
        u = uptake_of(session, enterprise, s)
        out[s.id] = {"uptake": u, "eligibility": free_period_eligibility(enterprise, s, u)}
    return out
