"""Citizens' spam reports: taken in (5656 short code or web form), stored, routed to the
operator of the reported number, answered by that operator, labelled by ministry staff.

A report is stored before its receipt is shown (the caller commits first; an evidence
file is written and fsynced before that). It is routed to the operator that holds the
source number's prefix (``operators.operator_of``); a brandname, a landline or a forwarded
advertisement has no operator to route to and stays with ministry staff. The reporter's
number is personal data: it is never logged, never in the audit log, never shown to the
reporter's lookup, and shown to operators only for reports on their own numbers.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ictgov import permissions
from ictgov.antispam import shortcode
from ictgov.antispam.models import ANSWER_ACTIONS, LABELS, REPORT_CHANNELS, SpamReport
from ictgov.antispam.operators import operator_of
from ictgov.audit import record
from ictgov.db import utcnow
from ictgov.text import normalize, normalize_phone, phone_kind
from ictgov.tipline.intake import RECEIPT_ALPHABET, sniff_media_type

MAX_CONTENT = shortcode.MAX_CONTENT
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ANSWER = 2000
# The official form's list: jpg/png/jpeg/amr/mp3/mp4/pdf (jpeg is jpg).
MEDIA_TYPES = ("image/jpeg", "image/png", "audio/amr", "audio/mpeg", "video/mp4", "application/pdf")
# What a short-code message asks for -> the kind of report it makes.
SHORTCODE_KINDS = {"sms_report": "sms", "call_report": "call", "scam_call_report": "scam_call",
                   "forward": "forward"}
WEB_KINDS = ("sms", "call", "scam_call")


class ReportError(ValueError):
    """A report that cannot be accepted; `errors` maps each field to its reason."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


@dataclass
class Evidence:
    filename: str
    data: bytes


@dataclass
class ReportInput:
    kind: str
    reporter_number: str
    source: str | None = None
    content: str = ""
    evidence: Evidence | None = None


def sniff(data: bytes) -> str | None:
    """The evidence's type from its bytes (the tipline's sniffing, plus AMR recordings)."""
    if data.startswith(b"#!AMR"):  # AMR and AMR-WB ("#!AMR-WB\n"), RFC 4867 section 5
        return "audio/amr"
    return sniff_media_type(data)


def new_receipt() -> str:
    return "TR-" + "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(8))


def subscriber_number(raw: str | None) -> str | None:
    """A Vietnamese mobile number in national form, or None."""
    number = normalize_phone(raw or "")
    return number if number is not None and phone_kind(number) == "mobile" else None


def check(inp: ReportInput, channel: str) -> dict[str, str]:
    """Every problem with a report, by field (empty when it is acceptable)."""
    errors: dict[str, str] = {}
    if channel not in REPORT_CHANNELS:
        errors["channel"] = f"must be one of {', '.join(REPORT_CHANNELS)}"
    kinds = WEB_KINDS if channel == "web" else tuple(SHORTCODE_KINDS.values())
    if inp.kind not in kinds:
        errors["kind"] = f"must be one of {', '.join(kinds)}"
    number = normalize_phone(inp.reporter_number or "")
    if channel == "web" and subscriber_number(inp.reporter_number) is None:
        errors["reporter_number"] = "required: the Vietnamese mobile number that received the spam"
    elif number is None or phone_kind(number) not in ("mobile", "landline"):
        errors["reporter_number"] = "not a Vietnamese subscriber number"
    if inp.kind != "forward":
        if not (inp.source or "").strip():
            errors["source"] = "required: the number, short code or brandname that sent it"
        else:
            source = shortcode.parse_source(inp.source)
            if source is None:
                errors["source"] = "neither a phone number nor a brandname"
            elif inp.kind == "scam_call" and phone_kind(source) is None:
                errors["source"] = "a scam call report needs the caller's number"
    content = normalize(inp.content or "")
    if channel == "web" and len(content) < 5:
        errors["content"] = "required: the message, or what the call said (at least 5 characters)"
    elif inp.kind == "forward" and not content:
        errors["content"] = "required: the advertisement's text"
    elif len(content) > MAX_CONTENT:
        errors["content"] = f"at most {MAX_CONTENT} characters"
    if inp.evidence is not None:
        if len(inp.evidence.data) > MAX_FILE_BYTES:
            errors["evidence"] = f"{inp.evidence.filename}: larger than 5 MB"
        elif sniff(inp.evidence.data) is None:
            errors["evidence"] = (f"{inp.evidence.filename}: not a jpg, png, amr, mp3, mp4 or pdf "
                                  "file (checked from its content)")
    return errors


def store_evidence(directory: Path, data: bytes) -> tuple[str, str]:
    """Write a file content-addressed and fsynced; (sha256, path)."""
    digest = hashlib.sha256(data).hexdigest()
    folder = directory / digest[:2]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / digest
    if not path.exists():
        tmp = path.with_suffix(".part")
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    return digest, str(path)


def _default_evidence_dir() -> Path:
    from ictgov.config import get_settings

    return get_settings().data_dir / "evidence" / "antispam"


def _score(kind: str, content: str) -> float | None:
    """The shipped classifier's spam probability of an SMS's text (None for calls)."""
    if kind not in ("sms", "forward") or not content:
        return None
    from ictgov.antispam.classifier import load_default

    return round(float(load_default().predict_proba([content])[0, 1]), 4)


def submit(session: Session, inp: ReportInput, channel: str, *, user=None,
           evidence_dir: Path | None = None, gateway_id: str | None = None,
           score: bool = True) -> SpamReport:
    """Check, store and route one report; the caller commits before showing its receipt.

    The same ``gateway_id`` (an SMS gateway's message id) never makes two reports: the
    second call returns the first report.
    """
    gateway_id = (gateway_id or "").strip() or None
    if gateway_id:
        previous = session.scalar(select(SpamReport).where(SpamReport.gateway_id == gateway_id))
        if previous is not None:
            return previous
    errors = check(inp, channel)
    if errors:
        raise ReportError(errors)
    source = shortcode.parse_source(inp.source) if inp.kind != "forward" and inp.source else None
    content = normalize(inp.content or "")
    operator = operator_of(source) if source else None
    report = SpamReport(
        receipt=new_receipt(), kind=inp.kind, channel=channel,
        reporter_number=normalize_phone(inp.reporter_number), source=source, content=content,
        spam_score=_score(inp.kind, content) if score else None,
        status="routed" if operator else "received", operator_code=operator, gateway_id=gateway_id,
    )
    if inp.evidence is not None:
        digest, path = store_evidence(evidence_dir or _default_evidence_dir(), inp.evidence.data)
        report.evidence_filename = Path(inp.evidence.filename).name[:255] or "evidence"
        report.evidence_media_type = sniff(inp.evidence.data)
        report.evidence_size = len(inp.evidence.data)
        report.evidence_sha256, report.evidence_path = digest, path
    session.add(report)
    try:
        session.flush()
    except IntegrityError:
        if gateway_id:  # two posts of one SMS raced; the other one won
            session.rollback()
            return session.scalar(select(SpamReport).where(SpamReport.gateway_id == gateway_id))
        raise
    record(session, user, "create", "antispam_report", report.receipt,
           after={"kind": report.kind, "channel": channel, "status": report.status,
                  "operator": operator})
    return report


@dataclass
class Inbound:
    """What an SMS to 5656 did: the parsed message (its reply carries the receipt), and the
    report or do-not-call change it made."""

    message: shortcode.ShortcodeMessage
    report: SpamReport | None = None
    dnc_listed: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = self.message.as_dict()
        out["receipt"] = self.report.receipt if self.report is not None else None
        out["operator"] = self.report.operator_code if self.report is not None else None
        return out


def receive_sms(session: Session, text: str, sender: str, *, gateway_id: str | None = None,
                user=None) -> Inbound:
    """An SMS sent to 5656 by `sender`: parse it, act on it, and compose the reply."""
    from ictgov.antispam import dnc

    number = normalize_phone(sender or "")
    if number is None or phone_kind(number) not in ("mobile", "landline"):
        raise ReportError({"sender": "not a Vietnamese subscriber number"})
    msg = shortcode.parse(text)
    if msg.kind in ("dnc_register", "dnc_cancel"):
        entry = (dnc.join if msg.kind == "dnc_register" else dnc.leave)(session, number, "shortcode",
                                                                        user=user)
        return Inbound(msg, dnc_listed=entry.listed if entry is not None else False)
    if msg.kind not in SHORTCODE_KINDS:
        return Inbound(msg)
    report = submit(session, ReportInput(SHORTCODE_KINDS[msg.kind], number, msg.source, msg.content),
                    "shortcode", user=user, gateway_id=gateway_id)
    return Inbound(shortcode.parse(text, ref=report.receipt), report)


# -- following and answering -----------------------------------------------------------------


def find(session: Session, receipt: str) -> SpamReport | None:
    return session.scalar(select(SpamReport).where(SpamReport.receipt == (receipt or "").strip().upper()))


def status_of(session: Session, receipt: str) -> dict[str, Any] | None:
    """What a reporter may see with their receipt: never their own or anyone's number."""
    report = find(session, receipt)
    if report is None:
        return None
    return {
        "receipt": report.receipt, "kind": report.kind, "channel": report.channel,
        "received_at": report.created_at.isoformat(timespec="seconds"),
        "status": report.status, "operator": report.operator_code,
        "answer": report.answer or None, "answer_action": report.answer_action,
        "answered_at": report.answered_at.isoformat(timespec="seconds") if report.answered_at else None,
    }


def may_handle(user, report: SpamReport) -> bool:
    """Staff handle every report; an operator only the reports routed to it."""
    if permissions.can(user, "antispam.staff"):
        return True
    return report.operator_code is not None and permissions.can(
        user, "antispam.operator", operator_code=report.operator_code)


def answer(session: Session, report: SpamReport, user, action: str, text: str) -> SpamReport:
    """The operator's answer to a report on its number (seen by the citizen with the receipt)."""
    if not may_handle(user, report):
        raise PermissionError("antispam.operator: not a report on your network")
    errors = {}
    if action not in ANSWER_ACTIONS:
        errors["action"] = f"must be one of {', '.join(ANSWER_ACTIONS)}"
    text = normalize(text or "")
    if len(text) < 5:
        errors["answer"] = "required: what was done (at least 5 characters)"
    elif len(text) > MAX_ANSWER:
        errors["answer"] = f"at most {MAX_ANSWER} characters"
    if errors:
        raise ReportError(errors)
    before = {"status": report.status, "action": report.answer_action}
    report.answer, report.answer_action, report.status = text, action, "answered"
    report.answered_by_id, report.answered_at = user.id, utcnow()
    report.updated_at = report.answered_at
    record(session, user, "answer", "antispam_report", report.receipt, before=before,
           after={"status": "answered", "action": action})
    return report


def set_label(session: Session, report: SpamReport, user, label: str | None) -> SpamReport:
    """Staff confirm that the content is spam ("spam") or not ("ham"), or take the label back."""
    if not permissions.can(user, "antispam.staff"):
        raise PermissionError("antispam.staff: only ministry staff label reports")
    if label is not None and label not in LABELS:
        raise ReportError({"label": f"must be one of {', '.join(LABELS)} (or empty)"})
    before = report.label
    report.label, report.labelled_by_id, report.updated_at = label, user.id, utcnow()
    record(session, user, "label", "antispam_report", report.receipt, before={"label": before},
           after={"label": label})
    return report


def visible(session: Session, user, *, operator_code: str | None = None, status: str | None = None,
            limit: int = 200):
    """Reports the user may see, newest first: staff all (or one operator's), an operator its own."""
    q = select(SpamReport).order_by(SpamReport.created_at.desc(), SpamReport.id.desc()).limit(limit)
    if not permissions.can(user, "antispam.staff"):
        scope = permissions.scope_of(user, "antispam.operator")
        operator_code = scope.get("operator_code")
        if operator_code is None:
            return []
    if operator_code:
        q = q.where(SpamReport.operator_code == operator_code)
    if status:
        q = q.where(SpamReport.status == status)
    return list(session.scalars(q))


def confirmed_pairs(session: Session) -> list[tuple[str, str]]:
    """(label, text) of the SMS reports staff labelled: training data for `retrain`."""
    rows = session.execute(select(SpamReport.label, SpamReport.content).where(
        SpamReport.label.is_not(None), SpamReport.kind.in_(("sms", "forward")), SpamReport.content != ""
    ).order_by(SpamReport.id))
    return [(label, text) for label, text in rows]
