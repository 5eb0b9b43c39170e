"""The SME digital-transformation programme (SMEdx): providers, their platforms, the review.

The programme's platforms are the solutions of the dx catalogue (``dx_solutions``): a
provider submits one with the programme's offer (platform group, the criteria of the
enterprise index it helps, free months, the staff limit of the free period, the monthly
price after it, whether it is eligible for the state's cost support), staff approve it or
reject it with reasons, and only approved, active platforms are listed and recommended.

- A provider is known by its tax code, the ``enterprise_ref`` of its account; its profile
  (name, website, contact e-mail) is made at its first visit.
- A provider changes its platform in any state. Saving sends it (again) for review: a
  rejected platform comes back as submitted, and so does an approved one, which leaves the
  public list until staff approve it again, because the ministry vouches for what it lists.
- Staff decide only on a submitted platform; a rejection needs its reasons.

Every change is written to the audit log. Enterprises' uptake is in ``dx.smedx_uptake``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import select
from sqlalchemy.orm import Session

from ictgov.audit import record
from ictgov.db import utcnow
from ictgov.dx import catalogue
from ictgov.dx.catalogue import CatalogueError
from ictgov.dx.enterprises import normalise_tax_code
from ictgov.dx.models import PLATFORM_GROUPS, Provider, Solution

# The catalogue's category of a platform group (the result page and the admin list show it).
GROUP_CATEGORY = {
    "enterprise_management": "erp", "hr": "collaboration", "tourism_hotel": "website_ecommerce",
    "tech_infrastructure": "cloud", "accounting": "finance_invoicing", "e_invoice": "finance_invoicing",
    "ads_crm": "crm", "e_learning": "training", "logistics": "other", "security": "security",
    "social_network": "marketing",
}
assert set(GROUP_CATEGORY) == set(PLATFORM_GROUPS)
SUBMISSION_FIELDS = ("name", "name_en", "platform_group", "criteria", "free_months", "free_max_staff",
                     "price_after", "cost_support", "description", "description_en", "url")
MAX_REASON = 4000
_EMAIL = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$")


class SmedxError(ValueError):
    """A profile, submission or decision that cannot be saved; ``errors`` maps each field to why."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


# -- providers --------------------------------------------------------------------------------


def provider_dict(p: Provider) -> dict[str, Any]:
    return {"tax_code": p.tax_code, "name": p.name, "website": p.website, "contact_email": p.contact_email}


def provider_of(session: Session, user) -> Provider | None:
    """The provider a user of role provider is bound to, once its profile is made."""
    ref = getattr(user, "enterprise_ref", None)
    if not ref:
        return None
    try:
        code = normalise_tax_code(ref)
    except ValueError:
        return None
    return session.scalar(select(Provider).where(Provider.tax_code == code))


def _clean_profile(data: dict[str, Any], tax_code: str) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    try:
        out["tax_code"] = normalise_tax_code(tax_code)
    except ValueError as exc:
        errors["tax_code"] = str(exc)
    name = " ".join(str(data.get("name") or "").split())
    if not name or len(name) > 300:
        errors["name"] = "required, at most 300 characters"
    out["name"] = name
    website = str(data.get("website") or "").strip()
    if website and (urlparse(website).scheme not in ("http", "https") or not urlparse(website).netloc
                    or len(website) > 500):
        errors["website"] = "an http(s) address, at most 500 characters"
    out["website"] = website
    email = str(data.get("contact_email") or "").strip()
    if not email or len(email) > 200 or not _EMAIL.match(email):
        errors["contact_email"] = "required: an e-mail address, at most 200 characters"
    out["contact_email"] = email
    if errors:
        raise SmedxError(errors)
    return out


def save_profile(session: Session, user, data: dict[str, Any]) -> Provider:
    """Create the provider of ``user`` (tax code from its account) or change its profile."""
    clean = _clean_profile(data, getattr(user, "enterprise_ref", None) or "")
    p = session.scalar(select(Provider).where(Provider.tax_code == clean["tax_code"]))
    if p is None:
        p = Provider(**clean)
        session.add(p)
        session.flush()
        record(session, user, "register", "dx_provider", p.id, after=provider_dict(p))
        return p
    before = provider_dict(p)
    for k in ("name", "website", "contact_email"):
        setattr(p, k, clean[k])
    if provider_dict(p) != before:
        p.updated_at = utcnow()
        record(session, user, "update", "dx_provider", p.id, before=before, after=provider_dict(p))
        # The platforms show the provider's name.
        for s in p.solutions:
            s.provider = p.name
    return p


# -- platforms --------------------------------------------------------------------------------


def _submission(provider: Provider, data: dict[str, Any]) -> dict[str, Any]:
    """The catalogue's checks with the offer required, the provider's name, the group's category."""
    group = str(data.get("platform_group") or "")
    values = {k: data.get(k) for k in SUBMISSION_FIELDS}
    values.update(provider=provider.name[:200], category=GROUP_CATEGORY.get(group, "other"), active=True)
    try:
        return catalogue._clean(values, offer_required=True)
    except CatalogueError as exc:
        raise SmedxError(exc.errors) from None


def submit(session: Session, provider: Provider, data: dict[str, Any], actor=None) -> Solution:
    """A new platform, sent for review."""
    s = Solution(**_submission(provider, data), provider_id=provider.id, status="submitted",
                 submitted_at=utcnow())
    session.add(s)
    session.flush()
    record(session, actor, "submit", "dx_solution", s.id, after=catalogue.as_dict(s))
    return s


def change(session: Session, provider: Provider, solution: Solution, data: dict[str, Any], actor=None) -> Solution:
    """The provider changes its platform; it goes (back) to review."""
    if solution.provider_id != provider.id:
        raise PermissionError("not this provider's platform")
    clean = _submission(provider, data)
    before = catalogue.as_dict(solution)
    was = solution.status
    for k, v in clean.items():
        setattr(solution, k, v)
    solution.status = "submitted"
    solution.submitted_at = utcnow()
    solution.updated_at = utcnow()
    record(session, actor, "submit" if was == "submitted" else "resubmit", "dx_solution", solution.id,
           before=before, after=catalogue.as_dict(solution))
    return solution


def platforms_of(session: Session, provider: Provider) -> list[Solution]:
    return list(session.scalars(select(Solution).where(Solution.provider_id == provider.id)
                                .order_by(Solution.submitted_at.desc(), Solution.id.desc())))


def own_platform(session: Session, provider: Provider | None, solution_id: int) -> Solution | None:
    """The platform if it is this provider's; None otherwise (the page answers 404 either way)."""
    s = session.get(Solution, solution_id)
    if s is None or provider is None or s.provider_id != provider.id:
        return None
    return s


# -- review -------------------------------------------------------------------------------------


def review_queue(session: Session) -> list[Solution]:
    """Platforms waiting for a decision, oldest first."""
    return list(session.scalars(select(Solution).where(Solution.status == "submitted")
                                .order_by(Solution.submitted_at, Solution.id)))


def recent_decisions(session: Session, limit: int = 50) -> list[Solution]:
    return list(session.scalars(select(Solution).where(Solution.provider_id.is_not(None),
                                                       Solution.status != "submitted",
                                                       Solution.reviewed_at.is_not(None))
                                .order_by(Solution.reviewed_at.desc()).limit(limit)))


def decide(session: Session, solution: Solution, decision: str, reason: str, actor) -> Solution:
    """Approve, or reject with reasons (required); only a submitted platform."""
    reason = str(reason or "").strip()
    errors: dict[str, str] = {}
    if decision not in ("approve", "reject"):
        errors["decision"] = "approve or reject"
    if decision == "reject" and not reason:
        errors["reason"] = "required: say why the platform is rejected, so the provider can fix it"
    if len(reason) > MAX_REASON:
        errors["reason"] = f"at most {MAX_REASON} characters"
    if solution.status != "submitted":
        errors["status"] = f"only a submitted platform is decided; this one is {solution.status}"
    if errors:
        raise SmedxError(errors)
    before = catalogue.as_dict(solution)
    solution.status = "approved" if decision == "approve" else "rejected"
    solution.review_reason = reason
    solution.reviewed_by_id = getattr(actor, "id", None)
    solution.reviewed_at = utcnow()
    solution.updated_at = utcnow()
    record(session, actor, decision, "dx_solution", solution.id, before=before,
           after={**catalogue.as_dict(solution), "reason": reason})
    return solution


# -- the public programme catalogue -------------------------------------------------------------


def listed(session: Session, *, group: str | None = None, criterion: str | None = None) -> list[Solution]:
    """Approved, active platforms, optionally of one group or helping one criterion."""
    out = []
    for s in catalogue.listing(session, active_only=True):
        if group and s.platform_group != group:
            continue
        if criterion and criterion not in (s.criteria or []):
            continue
        out.append(s)
    return out


def by_group(solutions: list[Solution]) -> list[tuple[str | None, list[Solution]]]:
    """Platforms grouped in the order of PLATFORM_GROUPS; solutions without a group last."""
    groups: dict[str | None, list[Solution]] = defaultdict(list)
    for s in solutions:
        groups[s.platform_group].append(s)
    order = [g for g in PLATFORM_GROUPS if g in groups] + ([None] if None in groups else [])
    return [(g, sorted(groups[g], key=lambda s: s.name)) for g in order]
