"""Taking a report in: check it, store it durably, group it with its claim, issue a receipt.

The receipt is issued only after the report is stored: the caller commits the session
before showing it (the web's SessionDep commits before the response is sent), and
evidence files are written and fsynced before that commit. The same Idempotency-Key never
creates two reports: the second call gets the first report back.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ictgov.audit import record
from ictgov.text import normalize
from ictgov.tipline.models import (
    CATEGORIES,
    CHANNELS,
    PLATFORMS,
    Case,
    Evidence,
    Report,
    Suggestion,
)

MAX_TEXT = 10_000
MAX_URLS = 20
MAX_FILES = 5
MAX_FILE_BYTES = 5 * 1024 * 1024
# Receipt alphabet without look-alikes (0/O, 1/I/L), so a caller can read it over the phone.
RECEIPT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
log = logging.getLogger(__name__)


class IntakeError(ValueError):
    """A submission that cannot be accepted; `errors` maps each field to its reason."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


@dataclass
class Upload:
    filename: str
    data: bytes


@dataclass
class Submission:
    text: str
    urls: list[str] = field(default_factory=list)
    platform: str = "other"
    category: str = "other"
    reach: int | None = None
    contact_phone: str | None = None
    contact_email: str | None = None
    consent: bool = False
    caller_number: str | None = None
    call_time: datetime | None = None
    files: list[Upload] = field(default_factory=list)


@dataclass
class SubmitResult:
    report: Report
    case: Case
    decision: str  # join | suggest | new | replay
    score: float | None
    verdict: str | None  # set when the report matched an already published verdict
    created: bool = True


def sniff_media_type(data: bytes) -> str | None:
    """The type from the bytes, not the name: jpg, png, pdf, mp4, mp3 are accepted."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if len(data) > 12 and data[4:8] == b"ftyp":
        return "video/mp4"
    if data.startswith(b"ID3") or (len(data) > 2 and data[0] == 0xFF and (data[1] & 0xE0) == 0xE0):
        return "audio/mpeg"
    return None


_REACH_RE = re.compile(r"\d{1,3}(?:[.,  ]\d{3})+|\d+")


def parse_reach(value: str | None) -> tuple[int | None, str | None]:
    """A reach figure typed in a form (views or shares seen): "12000", "12.000", "12,000" or
    "12 000" -> 12000; blank -> None. Returns (value, None) or (None, the reason it is refused)."""
    value = (value or "").strip()
    if not value:
        return None, None
    if not _REACH_RE.fullmatch(value) or len(value) > 15:
        return None, "a whole number of views or shares, such as 12000"
    return int(re.sub(r"\D", "", value)), None


def _comparable(text: str) -> bool:
    """Whether the matcher has something to compare: words once folded, or a link in it."""
    from ictgov.tipline.match import extract_urls
    from ictgov.text import fold

    in_text, rest = extract_urls(text)
    return bool(in_text or fold(rest))


def check(sub: Submission, channel: str) -> dict[str, str]:
    """Every problem with a submission, by field (empty when it is acceptable)."""
    from ictgov.text import canonical_url, normalize_phone

    errors: dict[str, str] = {}
    if channel not in CHANNELS:
        errors["channel"] = f"must be one of {', '.join(CHANNELS)}"
    text = normalize(sub.text or "")
    if len(text) < 5:
        errors["text"] = "required: describe the content you saw (at least 5 characters)"
    elif len(text) > MAX_TEXT:
        errors["text"] = f"at most {MAX_TEXT} characters"
    elif not sub.urls and not _comparable(text):
        errors["text"] = "has no words or links to check, only symbols"
    if len(sub.urls) > MAX_URLS:
        errors["urls"] = f"at most {MAX_URLS} links"
    for url in sub.urls:
        try:
            canonical_url(url)
        except ValueError:
            errors["urls"] = f"{url[:80]!r} is not a link"
            break
    if sub.platform not in PLATFORMS:
        errors["platform"] = f"must be one of {', '.join(PLATFORMS)}"
    if sub.category not in CATEGORIES:
        errors["category"] = f"must be one of {', '.join(CATEGORIES)}"
    if sub.reach is not None and sub.reach < 0:
        errors["reach"] = "must be zero or more"
    if sub.contact_phone and normalize_phone(sub.contact_phone) is None:
        errors["contact_phone"] = "not a Vietnamese phone number"
    if sub.contact_email and not EMAIL_RE.match(sub.contact_email.strip()):
        errors["contact_email"] = "not an e-mail address"
    if (sub.contact_phone or sub.contact_email) and not sub.consent:
        errors["consent"] = "needed to keep your contact details and tell you the outcome"
    if channel == "hotline":
        if not sub.caller_number or normalize_phone(sub.caller_number) is None:
            errors["caller_number"] = "required for a hotline report: the caller's number"
        if sub.call_time is None:
            errors["call_time"] = "required for a hotline report"
    if len(sub.files) > MAX_FILES:
        errors["files"] = f"at most {MAX_FILES} files"
    for f in sub.files:
        if len(f.data) > MAX_FILE_BYTES:
            errors["files"] = f"{f.filename}: larger than 5 MB"
        elif sniff_media_type(f.data) is None:
            errors["files"] = f"{f.filename}: not a jpg, png, pdf, mp4 or mp3 file (checked from its content)"
    return errors


def new_receipt() -> str:
    return "TG-" + "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(8))


def _store_file(directory: Path, upload: Upload) -> tuple[str, str]:
    digest = hashlib.sha256(upload.data).hexdigest()
    folder = directory / digest[:2]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / digest
    if not path.exists():
        tmp = path.with_suffix(".part")
        with open(tmp, "wb") as fh:
            fh.write(upload.data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    return digest, str(path)


def submit(
    session: Session,
    sub: Submission,
    channel: str,
    *,
    matcher=None,
    user=None,
    idempotency_key: str | None = None,
    evidence_dir: Path | None = None,
) -> SubmitResult:
    """Check, store and group one report; the caller commits before issuing the receipt."""
    from ictgov.text import canonical_url, normalize_phone

    # A blank key is no key: stored as "" it would collide with the next blank one.
    idempotency_key = (idempotency_key or "").strip() or None
    if idempotency_key:
        previous = session.scalar(select(Report).where(Report.idempotency_key == idempotency_key))
        if previous is not None:
            if previous.text != normalize(sub.text or ""):
                raise IntakeError({"idempotency_key": "already used for a different report"})
            return SubmitResult(previous, previous.case, "replay", previous.match_score,
                                previous.case.verdict if previous.case.state == "published" else None,
                                created=False)
    errors = check(sub, channel)
    if errors:
        raise IntakeError(errors)
    text = normalize(sub.text)
    urls = sorted({canonical_url(u) for u in sub.urls})

    decision, score, method, target, verdict = "new", None, "new", None, None
    if matcher is not None:
        matches = matcher.match(text, urls)
        outcome = matcher.decide(matches)
        if outcome.kind in ("join", "suggest") and outcome.match is not None:
            target = session.get(Case, outcome.match.case_id)
            score, method = outcome.match.score, outcome.match.method
            decision = outcome.kind if target is not None else "new"

    if decision == "join":
        case = target
        if case.state == "published":
            verdict = case.verdict
    else:
        case = Case(title=text[:200], category=sub.category, state="new", report_count=0)
        session.add(case)
    case.report_count += 1
    report = Report(
        receipt=new_receipt(), channel=channel, text=text, urls=urls, platform=sub.platform,
        category=sub.category, reach=sub.reach,
        contact_phone=normalize_phone(sub.contact_phone) if sub.contact_phone else None,
        contact_email=sub.contact_email.strip() if sub.contact_email else None,
        consent=bool(sub.consent),
        caller_number=normalize_phone(sub.caller_number) if sub.caller_number else None,
        call_time=sub.call_time, case=case, match_score=score,
        match_method=method if decision == "join" else "new",
        idempotency_key=idempotency_key, created_by_id=getattr(user, "id", None),
    )
    session.add(report)
    for f in sub.files:
        directory = evidence_dir or _default_evidence_dir()
        digest, path = _store_file(directory, f)
        session.add(Evidence(report=report, filename=Path(f.filename).name[:255],
                             media_type=sniff_media_type(f.data), size=len(f.data),
                             sha256=digest, stored_path=path))
    try:
        session.flush()
    except IntegrityError:
        # Two requests with one Idempotency-Key raced; the other one won.
        session.rollback()
        if idempotency_key:
            return submit(session, sub, channel, matcher=matcher, user=user,
                          idempotency_key=idempotency_key, evidence_dir=evidence_dir)
        raise
    if decision == "suggest" and target is not None:
        session.add(Suggestion(report_id=report.id, case_id=target.id, score=score, method=method))
    record(session, user, "create", "tipline_report", report.receipt,
           after={"channel": channel, "case": case.id, "decision": decision})
    if matcher is not None:
        index_after_commit(session, matcher, (report.id, case.id, text, urls, verdict))
    return SubmitResult(report, case, decision, score, verdict)


# The claim index learns of a report only once it is committed. Added before, a failed commit
# (SQLITE_BUSY, disk full) left a report id in the index that the database then handed to the
# next report, and every later `add` of that id failed until a restart.
_PENDING_INDEX = "tipline_index_pending"


def index_after_commit(session: Session, matcher, item: tuple) -> None:
    """Add `item` (report id, case id, text, urls, verdict) to `matcher` when `session` commits;
    forget it when the transaction ends otherwise (rolled back, or the session closed)."""
    pending = session.info.get(_PENDING_INDEX)
    if pending is None:
        pending = session.info[_PENDING_INDEX] = []
        event.listen(session, "after_commit", _index_pending)
        event.listen(session, "after_transaction_end", _drop_pending)
    pending.append((matcher, item))


def _index_pending(session: Session) -> None:
    pending = session.info.get(_PENDING_INDEX) or []
    session.info[_PENDING_INDEX] = []
    for matcher, item in pending:
        # Another request's catch-up (service.matcher_for) may have read it from the database
        # already: then it is skipped, under the matcher's lock.
        try:
            matcher.add_many([item], skip_stored=True)
        except (TypeError, ValueError):
            # The index is a cache of the database, which holds the report whatever happens
            # here; it is rebuilt from there at the next start.
            log.exception("tipline: report %s could not be added to the claim index", item[0])


def _drop_pending(session: Session, transaction) -> None:
    # after a commit this runs once `_index_pending` has emptied the list; savepoints pass by
    if transaction.parent is None and session.info.get(_PENDING_INDEX):
        session.info[_PENDING_INDEX] = []


def evidence_file(ev: Evidence, data_dir: Path | None = None) -> Path | None:
    """Where an evidence file is: the path it was stored at or, after a restore into another
    data directory, the same content-addressed place under that directory's evidence/."""
    stored = Path(ev.stored_path)
    if stored.is_file():
        return stored
    if data_dir is None:
        from ictgov.config import get_settings

        data_dir = get_settings().data_dir
    moved = data_dir / "evidence" / ev.sha256[:2] / ev.sha256
    return moved if moved.is_file() else None


def _default_evidence_dir() -> Path:
    from ictgov.config import get_settings

    return get_settings().data_dir / "evidence"


def status_of(session: Session, receipt: str) -> dict[str, Any] | None:
    """What a reporter may see with their receipt: never another reporter's data."""
    report = session.scalar(select(Report).where(Report.receipt == receipt.strip().upper()))
    if report is None:
        return None
    case = report.case
    out = {"receipt": report.receipt, "received_at": report.created_at.isoformat(timespec="seconds"),
           "state": case.state, "verdict": None, "verdict_url": None}
    if case.state == "published":
        out["verdict"] = case.verdict
        out["verdict_url"] = f"/tin-gia/{case.slug}" if case.slug else None
    return out
