"""Press agencies and their digital-maturity assessments (Decision 951/QĐ-BTTTT): the agency's
profile, the self-assessment of a year, the appraisal council's review and the certificate.

The workflow of an assessment::

    draft --submit--> submitted --certify--> certified (frozen: score, level, certificate)
                        |    ^
                 return |    | submit again
                        v    |
                       returned (the agency changes its answers)

One assessment per agency and year, made on the newest version of ``press-maturity`` when it
is started and kept on that version (id, version and the file's digest) for good. Answers and
evidence notes are saved as the agency goes; it can send only a complete questionnaire. The
council sets any criterion's points (0 to the criterion's points) with a reason, shown beside
the agency's own figure; every change is in the audit log. Certifying freezes the result with
a certificate number unique in its year (``PDT-2025-0007``), who certified and when.

A user of role ``press_agency`` is bound to its agency by ``users.agency_ref`` = the agency's
code, which it cannot change.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ictgov.audit import record
from ictgov.db import utcnow
from ictgov.dx.framework import MaturityFramework, get
from ictgov.dx.maturity import AdjustmentError, AnswerError, MaturityScore, check_adjustments, score
from ictgov.dx.models import AGENCY_TYPES, PressAgency, PressAssessment

DEFAULT_FRAMEWORK = "press-maturity"
# The index was issued on 2 June 2023: no assessment of an earlier year.
FIRST_YEAR = 2023
CERTIFICATE_PREFIX = "PDT"  # pdt.gov.vn, the press digital-transformation support centre's site
MAX_NOTE = 2000
MAX_REASON = 2000
EDITABLE = ("draft", "returned")


class PressError(ValueError):
    """A request that cannot be honoured; ``errors`` maps each field or criterion to why."""

    def __init__(self, errors: dict[str, str], missing: list[str] | None = None):
        self.errors = errors
        self.missing = missing or []
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def _problems(problems: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for p in problems:
        key, _, msg = p.partition(": ")
        out[key] = f"{out[key]}; {msg}" if key in out else msg
    return out


# -- agencies ----------------------------------------------------------------------------------


def normalise_code(text: str | None) -> str:
    """An agency code as accounts carry it: trimmed, upper case, 1 to 32 characters."""
    code = " ".join(str(text or "").split()).upper()
    if not code:
        raise ValueError("required")
    if len(code) > 32:
        raise ValueError("at most 32 characters")
    return code


def _one_line(value: Any, limit: int) -> str:
    return " ".join(str(value or "").split())[:limit + 1]


def _clean(session: Session, data: Mapping[str, Any], code: str | None) -> dict[str, Any]:
    from ictgov.stats.areas import find_area_by_code

    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    try:
        out["code"] = normalise_code(code)
    except ValueError as exc:
        errors["code"] = f"{exc} (the account is not bound to a press agency code)"
    name = _one_line(data.get("name"), 300)
    if not name or len(name) > 300:
        errors["name"] = "required, at most 300 characters"
    out["name"] = name
    agency_type = str(data.get("agency_type") or "").strip()
    if agency_type not in AGENCY_TYPES:
        errors["agency_type"] = f"one of {', '.join(AGENCY_TYPES)}"
    out["agency_type"] = agency_type
    body = _one_line(data.get("governing_body"), 300)
    if not body or len(body) > 300:
        errors["governing_body"] = "required, at most 300 characters (the ministry, organisation or province that governs it)"
    out["governing_body"] = body
    scope = str(data.get("scope") or "").strip()
    if scope not in ("central", "local"):
        errors["scope"] = "central or local"
    out["central"] = scope == "central"
    province = str(data.get("province_code") or "").strip()
    area = find_area_by_code(session, province, level="province") if province else None
    if area is None:
        errors["province_code"] = f"no province in force with code {province!r}" if province else "required"
    else:
        out["province_code"] = area.code
    if errors:
        raise PressError(errors)
    return out


def public_dict(agency: PressAgency) -> dict[str, Any]:
    return {"code": agency.code, "name": agency.name, "agency_type": agency.agency_type,
            "governing_body": agency.governing_body, "scope": "central" if agency.central else "local",
            "province_code": agency.province_code}


def by_code(session: Session, code: str | None) -> PressAgency | None:
    try:
        code = normalise_code(code)
    except ValueError:
        return None
    return session.scalar(select(PressAgency).where(PressAgency.code == code))


def of_user(session: Session, user) -> PressAgency | None:
    """The agency a press_agency user is bound to, once its profile is saved."""
    return by_code(session, getattr(user, "agency_ref", None))


def register(session: Session, data: Mapping[str, Any], actor=None, *, code: str | None) -> PressAgency:
    """Create an agency's profile; ``code`` is the account's own ``agency_ref``."""
    clean = _clean(session, data, code)
    if by_code(session, clean["code"]) is not None:
        raise PressError({"code": f"{clean['code']} is already registered"})
    agency = PressAgency(**clean, created_by_id=getattr(actor, "id", None))
    session.add(agency)
    session.flush()
    record(session, actor, "register", "dx_press_agency", agency.id, after=public_dict(agency))
    return agency


def update(session: Session, agency: PressAgency, data: Mapping[str, Any], actor=None) -> PressAgency:
    """Change the profile; the code never changes."""
    clean = _clean(session, data, agency.code)
    before = public_dict(agency)
    for k in ("name", "agency_type", "governing_body", "central", "province_code"):
        setattr(agency, k, clean[k])
    after = public_dict(agency)
    if after != before:
        agency.updated_at = utcnow()
        record(session, actor, "update", "dx_press_agency", agency.id, before=before, after=after)
    return agency


# -- assessments ---------------------------------------------------------------------------------


def framework_of(assessment: PressAssessment) -> MaturityFramework:
    """The exact framework version the assessment was started with."""
    fw = get(f"{assessment.framework_id}@{assessment.framework_version}", "maturity")
    assert isinstance(fw, MaturityFramework)
    return fw


def digest_matches(assessment: PressAssessment) -> bool:
    """False when the framework file was edited in place after the assessment was started."""
    return framework_of(assessment).digest == assessment.framework_digest


def years_open(today: datetime | None = None) -> list[int]:
    """The years an agency may assess: from the index's first year to this one, newest first."""
    this = (today or utcnow()).year
    return list(range(this, FIRST_YEAR - 1, -1))


def check_year(value: Any, today: datetime | None = None) -> int:
    try:
        year = int(str(value).strip())
    except (TypeError, ValueError):
        raise PressError({"year": f"{value!r} is not a year"}) from None
    if year not in years_open(today):
        raise PressError({"year": f"{year} is outside {FIRST_YEAR} to {years_open(today)[0]}"})
    return year


def assessment_of(session: Session, agency: PressAgency, year: int) -> PressAssessment | None:
    return session.scalar(select(PressAssessment).where(PressAssessment.agency_id == agency.id,
                                                        PressAssessment.year == year))


def assessments_of(session: Session, agency: PressAgency) -> list[PressAssessment]:
    """The agency's assessments, newest year first."""
    return list(session.scalars(select(PressAssessment).where(PressAssessment.agency_id == agency.id)
                                .order_by(PressAssessment.year.desc())))


def start(session: Session, agency: PressAgency, year: Any, actor=None,
          framework: str = DEFAULT_FRAMEWORK) -> PressAssessment:
    """The agency's assessment of ``year`` (resumed if it exists), else a new draft on the
    framework's newest version. One per agency and year."""
    year = check_year(year)
    existing = assessment_of(session, agency, year)
    if existing is not None:
        return existing
    fw = get(framework, "maturity")
    a = PressAssessment(agency_id=agency.id, year=year, framework_id=fw.id, framework_version=fw.version,
                        framework_digest=fw.digest, answers={}, notes={}, adjustments={}, status="draft",
                        created_by_id=getattr(actor, "id", None))
    session.add(a)
    session.flush()
    record(session, actor, "start", "dx_press_assessment", a.id,
           after={"agency": agency.code, "year": year, "framework": fw.ref})
    return a


def _council_points(a: PressAssessment) -> dict[str, str]:
    return {code: adj["points"] for code, adj in (a.adjustments or {}).items()}


def current_score(a: PressAssessment) -> MaturityScore:
    """The score as it stands: the agency's answers, then the council's adjustments."""
    return score(framework_of(a), a.answers or {}, _council_points(a))


def save(session: Session, a: PressAssessment, answers: Mapping[str, Any] | None = None,
         notes: Mapping[str, Any] | None = None, actor=None) -> dict[str, str]:
    """Merge answers ({criterion: option}, empty clears) and evidence notes into an editable
    assessment. Everything is checked first; nothing is saved when one entry is wrong."""
    if a.status not in EDITABLE:
        raise PressError({"status": f"this assessment is {a.status}; it can no longer be changed"})
    fw = framework_of(a)
    answers, notes = dict(answers or {}), dict(notes or {})
    errors: dict[str, str] = {}
    try:
        score(fw, answers)
    except AnswerError as exc:
        errors.update(_problems(exc.problems))
    for code, text in notes.items():
        if code not in fw.criteria:
            errors[f"note.{code}"] = f"unknown criterion in {fw.ref}"
        elif len(str(text or "").strip()) > MAX_NOTE:
            errors[f"note.{code}"] = f"at most {MAX_NOTE} characters"
    if errors:
        raise PressError(errors)
    merged_a, merged_n = dict(a.answers or {}), dict(a.notes or {})
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for code, value in answers.items():
        value = "" if value is None else str(value).strip()
        if merged_a.get(code, "") != value:
            before[code], after[code] = merged_a.get(code), value or None
            if value:
                merged_a[code] = value
            else:
                merged_a.pop(code, None)
    for code, text in notes.items():
        text = str(text or "").strip()
        if merged_n.get(code, "") != text:
            before[f"note.{code}"], after[f"note.{code}"] = merged_n.get(code), text or None
            if text:
                merged_n[code] = text
            else:
                merged_n.pop(code, None)
    if after:
        a.answers, a.notes = merged_a, merged_n  # new dicts, so the JSON columns are written
        a.updated_at = utcnow()
        record(session, actor, "save_answers", "dx_press_assessment", a.id, before=before, after=after)
    return merged_a


def submit(session: Session, a: PressAssessment, actor=None) -> MaturityScore:
    """Send a complete assessment to the council; an incomplete one is refused, naming every
    criterion not answered."""
    if a.status not in EDITABLE:
        raise PressError({"status": f"already {a.status}"})
    result = current_score(a)
    if not result.complete:
        fw = framework_of(a)
        raise PressError({code: f"not answered ({fw.criteria[code][2].text.en})" for code in result.unanswered},
                         missing=list(result.unanswered))
    before = a.status
    a.status = "submitted"
    a.self_total = float(result.self_total)
    a.return_reason = a.return_reason if before == "returned" else ""
    a.submitted_at = a.updated_at = utcnow()
    record(session, actor, "submit", "dx_press_assessment", a.id, before={"status": before},
           after={"status": "submitted", "self_total": a.self_total, "framework": a.framework_ref})
    return result


# -- the appraisal council ------------------------------------------------------------------------


def queue(session: Session, statuses: tuple[str, ...] = ("submitted",)) -> list[PressAssessment]:
    """Assessments in the given states, the longest waiting first."""
    return list(session.scalars(select(PressAssessment).where(PressAssessment.status.in_(statuses))
                                .order_by(PressAssessment.submitted_at, PressAssessment.id)))


def _reason(value: Any, field: str = "reason") -> str:
    text = str(value or "").strip()
    if not text:
        raise PressError({field: "required: say why"})
    if len(text) > MAX_REASON:
        raise PressError({field: f"at most {MAX_REASON} characters"})
    return text


def _actor_name(actor) -> str:
    return (getattr(actor, "full_name", "") or getattr(actor, "username", "")) if actor is not None else "system"


def adjust(session: Session, a: PressAssessment, criterion: str, points: Any, reason: Any, actor=None,
           at: datetime | None = None) -> dict[str, Any]:
    """Set the council's points for one criterion, with its reason (both required)."""
    if a.status != "submitted":
        raise PressError({"status": f"only a submitted assessment can be adjusted; this one is {a.status}"})
    fw = framework_of(a)
    errors: dict[str, str] = {}
    criterion = str(criterion or "").strip()
    if criterion not in fw.criteria:
        errors["criterion"] = f"unknown criterion {criterion!r} in {fw.ref}" if criterion else "required"
    if points is None or not str(points).strip():
        errors["points"] = "required"
    elif "criterion" not in errors:
        try:
            value = check_adjustments(fw, {criterion: points})[criterion]
        except AdjustmentError as exc:
            errors["points"] = "; ".join(exc.problems)
    try:
        text = _reason(reason)
    except PressError as exc:
        errors.update(exc.errors)
    if errors:
        raise PressError(errors)
    own = current_score(a).self_points[criterion]
    entry = {"points": str(value.numerator) if value.denominator == 1 else f"{float(value):g}",
             "self_points": f"{float(own):g}", "reason": text, "by": getattr(actor, "id", None),
             "by_name": _actor_name(actor), "at": (at or utcnow()).isoformat(timespec="seconds")}
    adjustments = dict(a.adjustments or {})
    before = adjustments.get(criterion)
    adjustments[criterion] = entry
    a.adjustments = adjustments
    a.updated_at = utcnow()
    record(session, actor, "adjust", "dx_press_assessment", a.id,
           before={criterion: before}, after={criterion: entry})
    return entry


def return_to_agency(session: Session, a: PressAssessment, reason: Any, actor=None) -> None:
    """Send a submitted assessment back to the agency, with the reason it will read."""
    if a.status != "submitted":
        raise PressError({"status": f"only a submitted assessment can be returned; this one is {a.status}"})
    text = _reason(reason)
    a.status, a.return_reason = "returned", text
    a.updated_at = utcnow()
    record(session, actor, "return", "dx_press_assessment", a.id, before={"status": "submitted"},
           after={"status": "returned", "reason": text})


def _next_certificate(session: Session, year: int) -> str:
    prefix = f"{CERTIFICATE_PREFIX}-{year}-"
    taken = session.scalars(select(PressAssessment.certificate_no)
                            .where(PressAssessment.certificate_no.like(f"{prefix}%"))).all()
    last = max((int(n[len(prefix):]) for n in taken if n and n[len(prefix):].isdigit()), default=0)
    return f"{prefix}{last + 1:04d}"


def certify(session: Session, a: PressAssessment, actor=None, at: datetime | None = None) -> dict[str, Any]:
    """Freeze the score with the council's adjustments and issue the certificate."""
    if a.status != "submitted":
        raise PressError({"status": f"only a submitted assessment can be certified; this one is {a.status}"})
    result = current_score(a)
    if not result.complete:
        raise PressError({code: "not answered" for code in result.unanswered}, missing=list(result.unanswered))
    when = at or utcnow()
    number = _next_certificate(session, a.year)
    data = result.as_dict()
    data["certificate"] = {"number": number, "date": when.isoformat(timespec="seconds"),
                           "by": getattr(actor, "id", None), "by_name": _actor_name(actor)}
    a.result = data
    a.total = float(result.total)
    a.level = result.level
    a.certificate_no = number
    a.status = "certified"
    a.certified_at = a.updated_at = when
    a.certified_by_id = getattr(actor, "id", None)
    try:
        session.flush()
    except IntegrityError:
        # Two council members certified in the same year at the same moment and drew the same
        # number: the unique constraint keeps the first; this one is undone and may be retried.
        session.rollback()
        raise PressError({"certificate": f"number {number} was just issued to another agency; "
                                         "certify again"}) from None
    record(session, actor, "certify", "dx_press_assessment", a.id, before={"status": "submitted"},
           after={"status": "certified", "certificate": number, "total": data["total"], "level": a.level,
                  "framework": a.framework_ref, "adjusted": sorted(a.adjustments or {})})
    return data


def by_certificate(session: Session, number: str | None) -> PressAssessment | None:
    """The certified assessment with this certificate number (any case, spaces ignored)."""
    text = "".join(str(number or "").split()).upper()
    if not text or len(text) > 32:
        return None
    return session.scalar(select(PressAssessment).where(PressAssessment.certificate_no == text,
                                                        PressAssessment.status == "certified"))


# -- public ranking ------------------------------------------------------------------------------


def certified_years(session: Session) -> list[int]:
    return list(session.scalars(select(PressAssessment.year).where(PressAssessment.status == "certified")
                                .group_by(PressAssessment.year).order_by(PressAssessment.year.desc())))


def ranking(session: Session, year: int, agency_type: str | None = None) -> list[dict[str, Any]]:
    """Certified agencies of a year by total, highest first; equal totals share a rank (1, 2, 2, 4).

    With ``agency_type`` the ranking is among agencies of that type only.
    """
    q = (select(PressAssessment, PressAgency).join(PressAgency, PressAgency.id == PressAssessment.agency_id)
         .where(PressAssessment.status == "certified", PressAssessment.year == year))
    if agency_type:
        q = q.where(PressAgency.agency_type == agency_type)
    rows = sorted(session.execute(q).all(), key=lambda r: (-round(r[0].total, 6), r[1].name))
    out: list[dict[str, Any]] = []
    for i, (a, agency) in enumerate(rows):
        total = round(a.total, 6)
        rank = out[-1]["rank"] if out and out[-1]["total"] == total else i + 1
        out.append({"rank": rank, "total": total, "level": a.level, "level_name": a.result["level_name"],
                    "agency": agency.name, "code": agency.code, "agency_type": agency.agency_type,
                    "scope": "central" if agency.central else "local", "province_code": agency.province_code,
                    "certificate_no": a.certificate_no, "framework": a.framework_ref,
                    "certified_at": a.certified_at})
    return out


def distribution(rows: list[dict[str, Any]], framework: MaturityFramework | None = None) -> list[dict[str, Any]]:
    """How many ranked agencies are at each level (every level listed, top first)."""
    fw = framework or get(DEFAULT_FRAMEWORK, "maturity")
    n = len(rows)
    out = []
    for lv in reversed(fw.levels):
        count = sum(1 for r in rows if r["level"] == lv.level)
        out.append({"level": lv.level, "name": {"vi": lv.name.vi, "en": lv.name.en}, "count": count,
                    "share": round(100 * count / n, 2) if n else 0.0})
    return out
