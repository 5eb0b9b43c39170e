"""Self-assessments: start, save answers as the user goes, resume, submit once complete.

An assessment is made with one framework version and keeps it (id, version, digest); it is
scored and shown with that version even after a newer one is bundled. While it is a draft
its answers can change; ``submit`` refuses an incomplete one, naming every missing
criterion, and freezes the result. Each submitted assessment is a point in the
enterprise's progress; peers are the other enterprises of the same sector, size class and
province, each counted once by its latest submitted assessment with the same framework.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ictgov.audit import record
from ictgov.db import utcnow
from ictgov.dx.framework import EnterpriseFramework, get
from ictgov.dx.models import Assessment, Enterprise
from ictgov.dx.scoring import AnswerError, Benchmark, EnterpriseScore, benchmark, score

DEFAULT_FRAMEWORK = "dbi-sme-2021"


class AssessmentError(ValueError):
    """A request the assessment cannot honour; ``problems`` names each criterion or field."""

    def __init__(self, problems: list[str], missing: list[str] | None = None):
        self.problems = problems
        self.missing = missing or []
        super().__init__("; ".join(problems))


def framework_of(assessment: Assessment) -> EnterpriseFramework:
    """The exact framework version the assessment was made with."""
    fw = get(f"{assessment.framework_id}@{assessment.framework_version}", "enterprise")
    assert isinstance(fw, EnterpriseFramework)
    return fw


def digest_matches(assessment: Assessment) -> bool:
    """False when the framework file was edited in place since the assessment was made."""
    return framework_of(assessment).digest == assessment.framework_digest


def draft_of(session: Session, enterprise: Enterprise) -> Assessment | None:
    return session.scalar(select(Assessment).where(Assessment.enterprise_id == enterprise.id,
                                                   Assessment.status == "draft")
                          .order_by(Assessment.id.desc()))


def start(session: Session, enterprise: Enterprise, actor=None, framework: str = DEFAULT_FRAMEWORK) -> Assessment:
    """The enterprise's open draft (resumed), or a new one on the framework's latest version."""
    existing = draft_of(session, enterprise)
    if existing is not None:
        return existing
    fw = get(framework, "enterprise")
    a = Assessment(enterprise_id=enterprise.id, framework_id=fw.id, framework_version=fw.version,
                   framework_digest=fw.digest, answers={}, status="draft", created_by_id=getattr(actor, "id", None))
    session.add(a)
    session.flush()
    record(session, actor, "start", "dx_assessment", a.id,
           after={"enterprise": enterprise.tax_code, "framework": fw.ref})
    return a


def save_answers(session: Session, assessment: Assessment, answers: Mapping[str, Any], actor=None) -> dict[str, str]:
    """Merge answers into a draft; an empty answer clears one. Returns the answers now saved.

    Every answer is checked against the framework first (unknown criterion, option not on
    its scale) and nothing is saved when one is wrong.
    """
    if assessment.status != "draft":
        raise AssessmentError(["status: this assessment is submitted; start a new one to change answers"])
    fw = framework_of(assessment)
    try:
        score(fw, answers, advice_limit=0)  # checks every answer, writes nothing
    except AnswerError as exc:
        raise AssessmentError(exc.problems) from None
    merged = dict(assessment.answers or {})
    changed: dict[str, Any] = {}
    for code, value in answers.items():
        value = "" if value is None else str(value).strip()
        if value:
            if merged.get(code) != value:
                changed[code] = value
            merged[code] = value
        elif code in merged:
            changed[code] = None
            del merged[code]
    if changed:
        before = {k: (assessment.answers or {}).get(k) for k in changed}
        assessment.answers = merged  # a new dict, so the JSON column is written
        assessment.updated_at = utcnow()
        record(session, actor, "save_answers", "dx_assessment", assessment.id, before=before, after=changed)
    return merged


def current_score(assessment: Assessment, advice_limit: int | None = 10) -> EnterpriseScore:
    """The score of the answers as they stand (a draft's progress, or a result to recompute)."""
    return score(framework_of(assessment), assessment.answers or {}, advice_limit=advice_limit)


def submit(session: Session, assessment: Assessment, actor=None) -> dict[str, Any]:
    """Score a complete draft and freeze the result; an incomplete one is refused."""
    if assessment.status != "draft":
        raise AssessmentError(["status: already submitted"])
    result = current_score(assessment, advice_limit=None)
    if not result.complete:
        fw = framework_of(assessment)
        raise AssessmentError(
            [f"{code}: not answered ({fw.criteria[code][2].text.en})" for code in result.unanswered],
            missing=list(result.unanswered))
    data = result.as_dict()
    assessment.result = data
    assessment.total = float(result.total)
    assessment.level = result.level
    assessment.status = "submitted"
    assessment.submitted_at = assessment.updated_at = utcnow()
    record(session, actor, "submit", "dx_assessment", assessment.id, before={"status": "draft"},
           after={"status": "submitted", "total": data["total"], "level": result.level,
                  "framework": assessment.framework_ref})
    return data


def submitted(session: Session, enterprise: Enterprise) -> list[Assessment]:
    """The enterprise's submitted assessments, oldest first."""
    return list(session.scalars(select(Assessment).where(Assessment.enterprise_id == enterprise.id,
                                                         Assessment.status == "submitted")
                                .order_by(Assessment.submitted_at, Assessment.id)))


def previous_of(session: Session, assessment: Assessment) -> Assessment | None:
    """The submitted assessment of the same enterprise just before this one."""
    earlier = [a for a in submitted(session, assessment.enterprise) if a.id != assessment.id
               and (assessment.submitted_at is None or a.submitted_at <= assessment.submitted_at)]
    return earlier[-1] if earlier else None


def progress(session: Session, enterprise: Enterprise) -> list[dict[str, Any]]:
    """One point per submitted assessment: total, level, pillar scores and the change since the last."""
    out: list[dict[str, Any]] = []
    for a in submitted(session, enterprise):
        pillars = {p["code"]: p["score"] for p in a.result["pillars"]}
        prev = out[-1] if out else None
        out.append({
            "id": a.id, "submitted_at": a.submitted_at, "framework": a.framework_ref,
            "total": a.result["total"], "level": a.level, "level_name": a.result["level_name"],
            "pillars": pillars,
            "change": None if prev is None else round(a.result["total"] - prev["total"], 6),
            "level_change": None if prev is None else a.level - prev["level"],
        })
    return out


def peers(session: Session, assessment: Assessment) -> tuple[Benchmark, dict[str, Any]]:
    """Benchmark of a submitted assessment among its peers (same sector, size, province).

    Each peer enterprise counts once, by its latest submitted assessment made with the same
    framework id and version (totals of different versions are not comparable).
    """
    e = assessment.enterprise
    rows = session.execute(
        select(Assessment.enterprise_id, Assessment.total, Assessment.submitted_at, Assessment.id)
        .join(Enterprise, Enterprise.id == Assessment.enterprise_id)
        .where(Assessment.status == "submitted", Assessment.framework_id == assessment.framework_id,
               Assessment.framework_version == assessment.framework_version,
               Enterprise.sector == e.sector, Enterprise.size_class == e.size_class,
               Enterprise.province_code == e.province_code, Enterprise.id != e.id)
        .order_by(Assessment.submitted_at, Assessment.id)).all()
    latest: dict[int, float] = {}
    for enterprise_id, total, _, _ in rows:
        latest[enterprise_id] = total
    group = {"sector": e.sector, "size_class": e.size_class, "province_code": e.province_code}
    return benchmark(assessment.total or 0.0, list(latest.values())), group
