"""The catalogue of digital solutions: kept by administrators, recommended against gaps.

It is also the SME programme's (SMEdx) list of platforms: providers submit platforms
(``dx.smedx``), staff approve them, and only approved, active ones are recommended. A
solution entered here by an administrator is approved from the start; its programme offer
(platform group, free period, staff limit, price after, cost support) is optional.

A solution names the criteria of an enterprise framework it helps with. Recommendations
take an assessment's advice (criteria with points still to gain, the ones that unlock the
next level first) and rank the active solutions by the points they could add on those
criteria. An enterprise records which solution it adopted; its next assessment shows, for
each adoption made since the one before, how the criteria the solution addresses moved.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import select
from sqlalchemy.orm import Session

from ictgov.audit import record
from ictgov.db import utcnow
from ictgov.dx.framework import EnterpriseFramework, available
from ictgov.dx.models import PLATFORM_GROUPS, SOLUTION_CATEGORIES, Adoption, Assessment, Enterprise, Solution

OFFER_FIELDS = ("platform_group", "free_months", "free_max_staff", "price_after", "cost_support")
FIELDS = ("name", "name_en", "provider", "category", "criteria", "price_min", "price_max",
          "description", "description_en", "url", "active", *OFFER_FIELDS)
MAX_FREE_MONTHS = 24
MAX_STAFF = 1_000_000


class CatalogueError(ValueError):
    """A solution or adoption that cannot be saved; ``errors`` maps each field to why."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def vn_today() -> date:
    """Today in Vietnam (UTC+7): an enterprise's "today", whatever the server's time zone."""
    return (utcnow() + timedelta(hours=7)).date()


def known_criteria() -> dict[str, Any]:
    """Criterion code -> criterion, over every bundled enterprise framework (newest wins)."""
    out: dict[str, Any] = {}
    for fw in available("enterprise"):
        assert isinstance(fw, EnterpriseFramework)
        for code, (_, _, c) in fw.criteria.items():
            out[code] = c
    return out


def _price(value: Any, field: str, errors: dict[str, str]) -> int | None:
    if value is None or str(value).strip() == "":
        return None
    text = str(value).replace(".", "").replace(",", "").replace(" ", "")
    if not text.isdigit():
        errors[field] = f"{value!r} is not a whole number of VND"
        return None
    return int(text)


def _whole(value: Any, field: str, low: int, high: int, errors: dict[str, str]) -> int | None:
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip()
    if not text.isdigit() or not low <= int(text) <= high:
        errors[field] = f"a whole number from {low} to {high}"
        return None
    return int(text)


def clean_offer(data: dict[str, Any], errors: dict[str, str], *, required: bool) -> dict[str, Any]:
    """The programme's offer: group, free months, staff limit of the free period, price after,
    cost support. ``required``: a provider's submission must state all of it; for an
    administrator's solution it is optional, but a free period needs its staff limit."""
    out: dict[str, Any] = {}
    group = str(data.get("platform_group") or "")
    if group and group not in PLATFORM_GROUPS:
        errors["platform_group"] = f"one of {', '.join(PLATFORM_GROUPS)}"
    elif not group and required:
        errors["platform_group"] = f"required: one of {', '.join(PLATFORM_GROUPS)}"
    out["platform_group"] = group or None
    out["free_months"] = _whole(data.get("free_months"), "free_months", 1, MAX_FREE_MONTHS, errors)
    out["free_max_staff"] = _whole(data.get("free_max_staff"), "free_max_staff", 1, MAX_STAFF, errors)
    out["price_after"] = _price(data.get("price_after"), "price_after", errors)
    for field in ("free_months", "free_max_staff", "price_after"):
        if required and out[field] is None and field not in errors:
            errors[field] = "required"
    if out["free_months"] is not None and out["free_max_staff"] is None and "free_max_staff" not in errors:
        errors["free_max_staff"] = "a free period needs the staff limit of the firms it is for"
    out["cost_support"] = data.get("cost_support", False) not in (False, None, "false", "0", "off", "")
    return out


def _clean(data: dict[str, Any], *, offer_required: bool = False) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for field, limit in (("name", 200), ("provider", 200)):
        text = " ".join(str(data.get(field) or "").split())
        if not text or len(text) > limit:
            errors[field] = f"required, at most {limit} characters"
        out[field] = text
    out["name_en"] = " ".join(str(data.get("name_en") or "").split())[:200]
    category = str(data.get("category") or "")
    if category not in SOLUTION_CATEGORIES:
        errors["category"] = f"one of {', '.join(SOLUTION_CATEGORIES)}"
    out["category"] = category
    raw = data.get("criteria") or []
    if isinstance(raw, str):
        raw = raw.replace(",", " ").split()
    criteria = list(dict.fromkeys(str(c).strip() for c in raw if str(c).strip()))
    known = known_criteria()
    unknown = [c for c in criteria if c not in known]
    if unknown:
        errors["criteria"] = f"unknown criteria: {', '.join(unknown)}"
    elif not criteria:
        errors["criteria"] = "name at least one criterion the solution addresses"
    out["criteria"] = criteria
    out["price_min"] = _price(data.get("price_min"), "price_min", errors)
    out["price_max"] = _price(data.get("price_max"), "price_max", errors)
    if out["price_min"] is not None and out["price_max"] is not None and out["price_min"] > out["price_max"]:
        errors["price_max"] = "must not be below price_min"
    out["description"] = str(data.get("description") or "").strip()[:4000]
    out["description_en"] = str(data.get("description_en") or "").strip()[:4000]
    url = str(data.get("url") or "").strip()
    if url and (urlparse(url).scheme not in ("http", "https") or not urlparse(url).netloc or len(url) > 500):
        errors["url"] = "an http(s) address, at most 500 characters"
    out["url"] = url
    out["active"] = data.get("active", True) not in (False, "false", "0", "off", "")
    out.update(clean_offer(data, errors, required=offer_required))
    if errors:
        raise CatalogueError(errors)
    return out


def as_dict(s: Solution) -> dict[str, Any]:
    return {"id": s.id, **{f: getattr(s, f) for f in FIELDS}, "status": s.status}


def create(session: Session, data: dict[str, Any], actor=None) -> Solution:
    """An administrator's solution: approved from the start, by that administrator."""
    s = Solution(**_clean(data), status="approved", reviewed_by_id=getattr(actor, "id", None),
                 reviewed_at=utcnow())
    session.add(s)
    session.flush()
    record(session, actor, "create", "dx_solution", s.id, after=as_dict(s))
    return s


def update(session: Session, solution: Solution, data: dict[str, Any], actor=None) -> Solution:
    clean = _clean(data)
    before = as_dict(solution)
    for k, v in clean.items():
        setattr(solution, k, v)
    if as_dict(solution) != before:
        solution.updated_at = utcnow()
        record(session, actor, "update", "dx_solution", solution.id, before=before, after=as_dict(solution))
    return solution


def delete(session: Session, solution: Solution, actor=None) -> bool:
    """Remove a solution; one that an enterprise adopted is only withdrawn (kept for its history).

    Returns True when the row was deleted, False when it was withdrawn.
    """
    from ictgov.dx.models import Uptake

    before = as_dict(solution)
    adopted = session.scalar(select(Adoption.id).where(Adoption.solution_id == solution.id).limit(1))
    if adopted is None:  # an enterprise's interest or free period is history too
        adopted = session.scalar(select(Uptake.id).where(Uptake.solution_id == solution.id).limit(1))
    if adopted is not None:
        solution.active = False
        solution.updated_at = utcnow()
        record(session, actor, "withdraw", "dx_solution", solution.id, before=before, after=as_dict(solution))
        return False
    session.delete(solution)
    record(session, actor, "delete", "dx_solution", before["id"], before=before)
    return True


def listing(session: Session, *, active_only: bool = False) -> list[Solution]:
    """Every solution; ``active_only``: those offered to enterprises, i.e. active and approved
    (a platform a provider submitted is not offered before staff approve it)."""
    q = select(Solution).order_by(Solution.category, Solution.name)
    if active_only:
        q = q.where(Solution.active.is_(True), Solution.status == "approved")
    return list(session.scalars(q))


def recommend(session: Session, result: dict[str, Any], limit: int = 5) -> list[dict[str, Any]]:
    """Active solutions ranked by the points they could add on the assessment's gaps.

    ``result`` is a score's ``as_dict()``; its advice lists the criteria with points to gain
    (``lifts_pillar`` marks those in pillars that must be lifted for the next level). A
    solution's value is the gain summed over the gaps it addresses, those that unlock the
    next level first.
    """
    gaps = {a["criterion"]: a for a in result.get("advice", [])}
    if not gaps:
        return []
    out = []
    for s in listing(session, active_only=True):
        hit = [gaps[c] for c in s.criteria if c in gaps]
        if not hit:
            continue
        out.append({"solution": s, "criteria": hit,
                    "gain": round(sum(a["gain"] for a in hit), 6),
                    "unlocks": any(a["lifts_pillar"] for a in hit)})
    out.sort(key=lambda r: (not r["unlocks"], -r["gain"], r["solution"].name))
    return out[:limit]


def adopt(session: Session, enterprise: Enterprise, solution: Solution, adopted_on: date | None = None,
          actor=None) -> Adoption:
    if not solution.active or solution.status != "approved":
        raise CatalogueError({"solution": "this solution is no longer in the catalogue"})
    adopted_on = adopted_on or vn_today()
    if adopted_on > vn_today():
        raise CatalogueError({"adopted_on": "a date in the future"})
    exists = session.scalar(select(Adoption).where(Adoption.enterprise_id == enterprise.id,
                                                   Adoption.solution_id == solution.id))
    if exists is not None:
        raise CatalogueError({"solution": f"already recorded as adopted on {exists.adopted_on.isoformat()}"})
    a = Adoption(enterprise_id=enterprise.id, solution_id=solution.id, adopted_on=adopted_on,
                 created_by_id=getattr(actor, "id", None))
    session.add(a)
    session.flush()
    record(session, actor, "adopt", "dx_adoption", a.id,
           after={"enterprise": enterprise.tax_code, "solution": solution.id, "adopted_on": adopted_on.isoformat()})
    return a


def adoptions(session: Session, enterprise: Enterprise) -> list[Adoption]:
    return list(session.scalars(select(Adoption).where(Adoption.enterprise_id == enterprise.id)
                                .order_by(Adoption.adopted_on, Adoption.id)))


def effects(session: Session, assessment: Assessment, previous: Assessment | None) -> list[dict[str, Any]]:
    """For each solution adopted between the previous submitted assessment and this one, the
    points of the criteria it addresses before and after."""
    if previous is None or assessment.result is None or previous.result is None:
        return []
    start, end = previous.submitted_at.date(), (assessment.submitted_at or utcnow()).date()
    now_points, before_points = assessment.result["points"], previous.result["points"]
    known = known_criteria()
    out = []
    for ad in adoptions(session, assessment.enterprise):
        if not start <= ad.adopted_on <= end:
            continue
        rows = []
        for code in ad.solution.criteria:
            if code in now_points and code in before_points:
                rows.append({"criterion": code, "text": known[code].text if code in known else None,
                             "before": before_points[code], "after": now_points[code],
                             "change": round(now_points[code] - before_points[code], 6)})
        out.append({"adoption": ad, "solution": ad.solution, "criteria": rows,
                    "change": round(sum(r["change"] for r in rows), 6)})
    return out
