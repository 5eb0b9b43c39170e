"""The life of a case: triage, assignment, referral, verification, verdict, publication.

new → triaged → assigned → verifying → decided → published, or closed as a duplicate or
out of scope before a verdict. Every transition is checked against the state it leaves and
the role of the user, and written to the audit log with the state before and after.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

from sqlalchemy import case as sa_case
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ictgov import permissions
from ictgov.audit import record
from ictgov.auth import Role, User
from ictgov.db import utcnow
from ictgov.text import slugify
from ictgov.tipline.models import CATEGORIES, VERDICTS, Case, OutboxMessage, Report, ReportMove, Suggestion

# Which states each action may leave, and the state it reaches.
TRANSITIONS = {
    "triage": ({"new"}, "triaged"),
    "assign": ({"triaged", "assigned"}, "assigned"),
    "start": ({"assigned"}, "verifying"),
    "decide": ({"verifying"}, "decided"),
    "publish": ({"decided"}, "published"),
    "close_duplicate": ({"new", "triaged", "assigned", "verifying"}, "closed_duplicate"),
    "close_out_of_scope": ({"new", "triaged", "assigned", "verifying"}, "closed_out_of_scope"),
}
# Health, disasters and security first: harm comes fastest there.
CATEGORY_WEIGHT = {"health": 3.0, "disasters_epidemics": 3.0, "security_order": 3.0,
                   "scam_links": 2.0, "policy_law": 1.5, "economy_finance": 1.5,
                   "fake_accounts": 1.2, "other": 1.0}
VERDICT_LABELS = {
    "fake": ("Tin giả", "Fake news"),
    "false": ("Tin sai sự thật", "False / untrue"),
    "true": ("Tin xác thực", "Verified true"),
    "unverifiable": ("Chưa thể xác minh", "Unverifiable"),
}


class WorkflowError(ValueError):
    """A transition that is not allowed; the message says why."""


def _state(case: Case) -> dict:
    return {"state": case.state, "verdict": case.verdict, "assigned_to": case.assigned_to_id,
            "agency": case.agency, "due_date": case.due_date.isoformat() if case.due_date else None}


def _move(session: Session, case: Case, action: str, user: User, **after_extra) -> None:
    if not permissions.can(user, "tipline.triage"):
        raise WorkflowError(f"{action}: your role may not work on cases")
    allowed, target = TRANSITIONS[action]
    if case.state not in allowed:
        raise WorkflowError(f"{action}: a case that is {case.state} cannot be moved to {target}")
    before = _state(case)
    case.state = target
    case.updated_at = utcnow()
    record(session, user, action, "tipline_case", case.id, before=before, after={**_state(case), **after_extra})


def triage(session: Session, case: Case, user: User, *, category: str | None = None) -> Case:
    if category is not None:
        if category not in CATEGORIES:
            raise WorkflowError(f"category: must be one of {', '.join(CATEGORIES)}")
        case.category = category
    _move(session, case, "triage", user)
    case.priority = priority(session, case)
    return case


def assign(session: Session, case: Case, user: User, assignee: User) -> Case:
    if assignee.role not in (Role.fact_checker.value, Role.admin.value) or not assignee.is_active:
        raise WorkflowError("assignee: must be an active fact-checker")
    case.assigned_to_id = assignee.id
    _move(session, case, "assign", user, assignee=assignee.username)
    return case


def refer(session: Session, case: Case, user: User, agency: str, due: date) -> Case:
    """Refer to the competent agency (ministry, province's department, police) with a due date."""
    if not permissions.can(user, "tipline.triage"):
        raise WorkflowError("refer: your role may not work on cases")
    if case.state in ("decided", "published", "closed_duplicate", "closed_out_of_scope"):
        raise WorkflowError(f"refer: a case that is {case.state} cannot be referred")
    if not agency.strip():
        raise WorkflowError("agency: required")
    before = _state(case)
    case.agency, case.due_date = agency.strip()[:200], due
    record(session, user, "refer", "tipline_case", case.id, before=before, after=_state(case))
    return case


def start(session: Session, case: Case, user: User) -> Case:
    if case.assigned_to_id not in (user.id, None) and user.role != Role.admin.value:
        raise WorkflowError("start: only the assigned fact-checker (or an admin) starts verifying")
    _move(session, case, "start", user)
    return case


def decide(session: Session, case: Case, user: User, verdict: str, summary: str, *,
           summary_en: str = "", evidence_notes: str = "", sources: list[str] | None = None) -> Case:
    if verdict not in VERDICTS:
        raise WorkflowError(f"verdict: must be one of {', '.join(VERDICTS)}")
    if len(summary.strip()) < 10:
        raise WorkflowError("summary: explain the verdict for the public (at least 10 characters)")
    case.verdict, case.summary, case.summary_en = verdict, summary.strip(), summary_en.strip()
    case.evidence_notes, case.sources = evidence_notes.strip(), list(sources or [])
    case.decided_at = utcnow()
    _move(session, case, "decide", user)
    return case


def publish(session: Session, case: Case, user: User) -> list[OutboxMessage]:
    """Publish the verdict and queue a notice to every reporter who gave a contact and consent."""
    _move(session, case, "publish", user)
    case.published_at = utcnow()
    case.slug = f"{case.id}-{slugify(case.title, max_length=80).replace('_', '-') or 'tin'}"
    from ictgov.tipline.service import mark_published

    mark_published(session, case)
    vi, en = VERDICT_LABELS[case.verdict]
    messages = []
    for report in session.scalars(select(Report).where(Report.case_id == case.id, Report.consent.is_(True))):
        body = (f"Trung tâm Xử lý tin giả: phản ánh {report.receipt} đã có kết luận: {vi}. "
                f"Xem: /tin-gia/{case.slug}\nVAFC: report {report.receipt} has a verdict: {en}.")
        for channel, recipient in (("email", report.contact_email), ("sms", report.contact_phone)):
            if recipient:
                msg = OutboxMessage(channel=channel, recipient=recipient, body=body,
                                    subject=f"Kết luận phản ánh {report.receipt}")
                session.add(msg)
                messages.append(msg)
    return messages


def _note_moves(session: Session, report_ids: list[int], case_id: int) -> None:
    """Every process's claim index applies these moves on its next use (tipline.service)."""
    session.add_all(ReportMove(report_id=rid, case_id=case_id) for rid in report_ids)


def close_duplicate(session: Session, case: Case, user: User, original: Case) -> Case:
    """Close as a duplicate: its reports move to the original case."""
    if original.id == case.id or original.state.startswith("closed"):
        raise WorkflowError("duplicate_of: must be another open or published case")
    _move(session, case, "close_duplicate", user, duplicate_of=original.id)
    case.duplicate_of_id = original.id
    moved = list(session.scalars(select(Report).where(Report.case_id == case.id)))
    for report in moved:
        report.case_id = original.id
    _note_moves(session, [r.id for r in moved], original.id)
    original.report_count += len(moved)
    case.report_count = 0
    return case


def close_out_of_scope(session: Session, case: Case, user: User) -> Case:
    _move(session, case, "close_out_of_scope", user)
    return case


def resolve_suggestion(session: Session, suggestion: Suggestion, user: User, confirm: bool) -> Suggestion:
    """A fact-checker confirms (the report joins the suggested case) or rejects a suggestion.

    The decisions are what the thresholds are calibrated from.
    """
    if not permissions.can(user, "tipline.triage"):
        raise WorkflowError("suggestion: your role may not decide suggestions")
    if suggestion.decision is not None:
        raise WorkflowError(f"suggestion: already {suggestion.decision}")
    suggestion.decision = "confirmed" if confirm else "rejected"
    suggestion.decided_by_id, suggestion.decided_at = user.id, utcnow()
    if confirm:
        report = session.get(Report, suggestion.report_id)
        old = session.get(Case, report.case_id)
        target = session.get(Case, suggestion.case_id)
        if old.id != target.id:
            report.case_id = target.id
            _note_moves(session, [report.id], target.id)
            old.report_count -= 1
            target.report_count += 1
            if old.report_count == 0 and old.state == "new":
                old.state, old.duplicate_of_id = "closed_duplicate", target.id
    record(session, user, suggestion.decision, "tipline_suggestion", suggestion.id,
           after={"report": suggestion.report_id, "case": suggestion.case_id, "score": suggestion.score})
    return suggestion


# Suggestion.decision of an automatic match a fact-checker undid (see `move_report`).
REMOVED = "removed"
# States in which a fact-checker has worked through a case's reports: an automatic match still
# in the case by then was accepted by them.
REVIEWED_STATES = ("decided", "published")


def move_report(session: Session, report: Report, user: User, target: Case | None = None,
                reason: str = "") -> Case:
    """Take a report out of the case it is in: into `target`, or into a new case of its own.

    When the report had joined that case automatically, the removal is recorded as a rejected
    automatic match (a Suggestion decided "removed"), so calibration measures the precision
    above the upper threshold from what fact-checkers undid instead of assuming it.
    """
    if not permissions.can(user, "tipline.triage"):
        raise WorkflowError("move: your role may not work on cases")
    old = session.get(Case, report.case_id)
    if target is not None:
        if target.id == old.id:
            raise WorkflowError("target_case: the report is already in this case")
        if target.state.startswith("closed"):
            raise WorkflowError(f"target_case: case #{target.id} is closed")
    else:
        target = Case(title=report.text[:200], category=report.category, state="new", report_count=0)
        session.add(target)
        session.flush()
    joined_automatically = (report.match_method != "new" and report.match_score is not None
                            and _first_case(session, report) == old.id)
    report.case_id = target.id
    _note_moves(session, [report.id], target.id)
    old.report_count -= 1
    target.report_count += 1
    if joined_automatically:
        session.add(Suggestion(report_id=report.id, case_id=old.id, score=report.match_score,
                               method=report.match_method, decision=REMOVED,
                               decided_by_id=user.id, decided_at=utcnow()))
    record(session, user, "move_report", "tipline_report", report.receipt,
           before={"case": old.id}, after={"case": target.id, "new_case": target.report_count == 1,
                                           "automatic_match_rejected": joined_automatically,
                                           "score": report.match_score, "reason": reason.strip()[:500]})
    # and in the history of the case it left, which no longer lists the report
    record(session, user, "remove_report", "tipline_case", old.id,
           after={"report": report.receipt, "to_case": target.id, "reason": reason.strip()[:500]})
    return target


def _first_case(session: Session, report: Report) -> int | None:
    """The case the report was put in at intake (its receipt's audit entry says which)."""
    from ictgov.audit import AuditEntry

    after = session.scalar(select(AuditEntry.after).where(
        AuditEntry.entity == "tipline_report", AuditEntry.entity_id == report.receipt,
        AuditEntry.action == "create").order_by(AuditEntry.id).limit(1))
    return after.get("case") if isinstance(after, dict) else None


def calibration_decisions(session: Session) -> list[tuple[float, bool]]:
    """(score, confirmed) of every match a fact-checker has judged, for calibrating thresholds.

    - suggestions confirmed or rejected (between the two thresholds);
    - automatic matches (above the upper threshold) taken out of their case: rejected;
    - automatic matches still in their case once it is decided or published (the fact-checker
      verified the case with them in it): confirmed.
    """
    out = [(score, decision == "confirmed") for score, decision in session.execute(
        select(Suggestion.score, Suggestion.decision).where(Suggestion.decision.is_not(None)))]
    removed = select(Suggestion.report_id).where(Suggestion.decision == REMOVED)
    out += [(score, True) for (score,) in session.execute(
        select(Report.match_score).join(Case, Case.id == Report.case_id)
        .where(Report.match_method != "new", Report.match_score.is_not(None),
               Case.state.in_(REVIEWED_STATES), Report.id.not_in(removed)))]
    return out


def _score(category: str, total: int, recent: int, reach: int) -> float:
    base = math.log1p(total) + 2.0 * math.log1p(recent) + 0.5 * math.log10(1 + reach)
    return round(base * CATEGORY_WEIGHT.get(category, 1.0), 4)


def priority(session: Session, case: Case, now: datetime | None = None) -> float:
    """Reports, their velocity over the last 24 hours, the category's weight and the reach given."""
    now = now or utcnow()
    recent = session.scalar(select(func.count()).select_from(Report).where(
        Report.case_id == case.id, Report.created_at >= now - timedelta(hours=24))) or 0
    reach = session.scalar(select(func.max(Report.reach)).where(Report.case_id == case.id)) or 0
    return _score(case.category, case.report_count or 0, recent, reach)


def queue(session: Session, states=("new", "triaged", "assigned", "verifying"), limit: int = 200) -> list[Case]:
    """The work queue, highest priority first (priorities refreshed as it is read).

    Velocity and reach of every open case come from one grouped query, so the queue costs
    the same two queries with ten open cases or ten thousand.
    """
    cutoff = utcnow() - timedelta(hours=24)
    cases = list(session.scalars(select(Case).where(Case.state.in_(states))))
    rows = session.execute(
        select(Report.case_id,
               func.sum(sa_case((Report.created_at >= cutoff, 1), else_=0)),
               func.max(Report.reach))
        .join(Case, Case.id == Report.case_id).where(Case.state.in_(states))
        .group_by(Report.case_id)
    ).all()
    activity = {cid: (int(recent or 0), int(reach or 0)) for cid, recent, reach in rows}
    for c in cases:
        recent, reach = activity.get(c.id, (0, 0))
        c.priority = _score(c.category, c.report_count or 0, recent, reach)
    cases.sort(key=lambda c: (-c.priority, c.created_at))
    return cases[:limit]
