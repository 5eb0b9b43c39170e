"""Taking a report in: check it, store it durably, group it with its claim, issue a receipt.

The receipt is issued only after the report is stored: the caller commits the session
before showing it (the web's SessionDep commits before the response is sent), and
evidence files are written and fsynced before that commit. The same Idempotency-Key never
creates two reports: the second call gets the first report back.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ictgov.audit import record_many
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


class RowReport(SimpleNamespace):
    """A report's column values, stored by the intake writer as a row after its batch's flush
    (`prepare(rows=...)`): the writer stores reports by the dozen, and the ORM's bookkeeping
    of one object per report cost more than the insert. It reads like the stored `Report` for
    what comes after (`id` once inserted, `receipt`, `channel`, `text`, ...)."""


@dataclass
class SubmitResult:
    report: Report | RowReport
    case: Case
    decision: str  # join | suggest | new | replay
    score: float | None
    verdict: str | None  # set when the report matched an already published verdict
    created: bool = True
    # for `finish`: the case suggested or joined, how it matched, the report's canonical links
    target: Case | None = None
    method: str = "new"
    urls: list[str] = field(default_factory=list)


# Major brands of the ISO base media file format that are MP4 video. Left out on purpose:
# HEIF/HEIC images (heic, heix, mif1, msf1), M4A/M4B/M4P audio, QuickTime "qt  " (MOV) and 3GPP
# (3gp*, 3g2*) share the "ftyp" box but are not mp4, and a viewer for mp4 may mishandle them.
MP4_BRANDS = frozenset({b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"iso7", b"iso8",
                        b"iso9", b"mp41", b"mp42", b"mp71", b"avc1", b"M4V ", b"M4VH", b"M4VP",
                        b"dash", b"mmp4", b"msnv", b"f4v "})
# MPEG audio Layer III: kbit/s by bitrate index (MPEG-1, MPEG-2/2.5) and Hz by sample-rate index.
_MP3_BITRATES = {1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
                 2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)}
_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _mp3_frame_length(data: bytes, pos: int) -> int | None:
    """Length of the MPEG audio Layer III frame whose header is at `pos`, or None if there is
    no valid header there (sync, version, layer, bitrate and sample rate all checked)."""
    if len(data) < pos + 4:
        return None
    b1, b2, b3 = data[pos + 1], data[pos + 2], data[pos + 3]
    if data[pos] != 0xFF or (b1 & 0xE0) != 0xE0:
        return None
    version, layer = (b1 >> 3) & 0x03, (b1 >> 1) & 0x03
    bitrate_index, rate_index = b2 >> 4, (b2 >> 2) & 0x03
    if version == 1 or layer != 1 or bitrate_index in (0, 15) or rate_index == 3 or (b3 & 0x03) == 2:
        return None  # reserved version, not Layer III, free/bad bitrate, reserved rate or emphasis
    bitrate = _MP3_BITRATES[1 if version == 3 else 2][bitrate_index] * 1000
    rate = _MP3_RATES[version][rate_index]
    padding = (b2 >> 1) & 0x01
    return (144 if version == 3 else 72) * bitrate // rate + padding


def _is_mp3(data: bytes) -> bool:
    if data.startswith(b"ID3"):
        # ID3v2 tag: version 2-4, revision, flags (low bits unused), a 28-bit "syncsafe" size
        if len(data) < 10 or data[3] not in (2, 3, 4) or data[4] == 0xFF or data[5] & 0x0F:
            return False
        if any(b & 0x80 for b in data[6:10]):
            return False
        size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
        after = 10 + size + (10 if data[5] & 0x10 else 0)
        # the first frame follows the tag (when the upload holds it)
        return after >= len(data) or _mp3_frame_length(data, after) is not None
    first = _mp3_frame_length(data, 0)
    if first is None:
        return False
    # Two bytes that happen to look like a header are common in any binary: the next frame
    # must start where this one ends (when the upload is that long).
    return first >= len(data) or _mp3_frame_length(data, first) is not None


def sniff_media_type(data: bytes) -> str | None:
    """The type from the bytes, not the name: jpg, png, pdf, mp4, mp3 are accepted.

    Each is recognised by its own structure, not by two lucky bytes: JPEG's SOI marker and a
    following segment marker, PNG's 8-byte signature, "%PDF-" and a version digit, an mp4 "ftyp"
    box with an MP4 major brand (`MP4_BRANDS`: not HEIC, M4A or MOV), and for mp3 an ID3v2 tag
    with a valid header or two consecutive valid MPEG audio Layer III frame headers.
    """
    if len(data) >= 4 and data.startswith(b"\xff\xd8\xff") and data[3] >= 0xC0:
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"%PDF-") and data[5:6].isdigit():
        return "application/pdf"
    if len(data) >= 12 and data[4:8] == b"ftyp":
        box = int.from_bytes(data[:4], "big")
        if box >= 16 and data[8:12] in MP4_BRANDS:
            return "video/mp4"
        return None
    if _is_mp3(data):
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
    # One draw of all eight characters (a number below 31**8, read in base 31): as uniform as
    # eight `secrets.choice` calls, with one read of the system's random source instead of eight.
    n = secrets.randbelow(len(RECEIPT_ALPHABET) ** 8)
    chars = []
    for _ in range(8):
        n, digit = divmod(n, len(RECEIPT_ALPHABET))
        chars.append(RECEIPT_ALPHABET[digit])
    return "TG-" + "".join(chars)


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


def claim_of(sub: Submission) -> tuple[str, list[str]]:
    """What a checked report is matched and stored as: its normalised text and its links in
    canonical form, sorted."""
    from ictgov.text import canonical_url

    return normalize(sub.text), sorted({canonical_url(u) for u in sub.urls})


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
    # A blank key is no key: stored as "" it would collide with the next blank one.
    idempotency_key = (idempotency_key or "").strip() or None
    if idempotency_key:
        previous = replay_of(session, sub, idempotency_key)
        if previous is not None:
            return previous
    result = prepare(session, sub, channel, matcher=matcher, user=user,
                     idempotency_key=idempotency_key, evidence_dir=evidence_dir)
    try:
        session.flush()
    except IntegrityError:
        # Two requests with one Idempotency-Key raced; the other one won.
        session.rollback()
        if idempotency_key:
            return submit(session, sub, channel, matcher=matcher, user=user,
                          idempotency_key=idempotency_key, evidence_dir=evidence_dir)
        raise
    finish(session, [(result, user)], matcher=matcher)
    return result


def replay_of(session: Session, sub: Submission, idempotency_key: str) -> SubmitResult | None:
    """The report stored earlier under `idempotency_key`, answered again; None if the key is new.
    The key sent again with another text is refused."""
    # Without a flush first: the intake writer adds a whole batch and flushes it once; a
    # replayed key on the way must not flush the reports added before it one by one.
    with session.no_autoflush:
        previous = session.scalar(select(Report).where(Report.idempotency_key == idempotency_key))
    if previous is None:
        return None
    return replayed(previous, previous.case, sub, previous.match_score,
                    previous.case.verdict if previous.case.state == "published" else None)


def replayed(report: Report, case: Case, sub: Submission, score: float | None,
             verdict: str | None) -> SubmitResult:
    """The answer to a key sent again: the report stored under it, if the text is the same."""
    if report.text != normalize(sub.text or ""):
        raise IntakeError({"idempotency_key": "already used for a different report"})
    return SubmitResult(report, case, "replay", score, verdict, created=False)


def prepare(
    session: Session,
    sub: Submission,
    channel: str,
    *,
    matcher=None,
    user=None,
    idempotency_key: str | None = None,
    evidence_dir: Path | None = None,
    matches: list | None = None,
    cases: dict | None = None,
    checked: bool = False,
    rows: list[tuple[RowReport, Case]] | None = None,
) -> SubmitResult:
    """Check a report and add it, with a new case if it opens one, to `session`, unflushed.

    `matches`: the caller has matched the report already (`matcher.match` of `claim_of(sub)`);
    a match whose case id is a key of `cases` names a case of this transaction not flushed
    yet (the intake writer's batch). `checked`: `check` found nothing wrong already. The
    caller flushes, then calls `finish`. With `rows`, a report without files is not added to
    the session but appended to `rows` with its case, for the caller to insert after its flush
    (`insert_rows`).
    """
    from ictgov.text import normalize_phone

    errors = {} if checked else check(sub, channel)
    if errors:
        raise IntakeError(errors)
    text, urls = claim_of(sub)

    decision, score, method, target, verdict = "new", None, "new", None, None
    if matcher is not None:
        if matches is None:
            matches = matcher.match(text, urls)
        outcome = matcher.decide(matches)
        if outcome.kind in ("join", "suggest") and outcome.match is not None:
            found = outcome.match.case_id
            target = cases[found] if cases and found in cases else session.get(Case, found)
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
    values = dict(
        receipt=new_receipt(), channel=channel, text=text, urls=urls, platform=sub.platform,
        category=sub.category, reach=sub.reach,
        contact_phone=normalize_phone(sub.contact_phone) if sub.contact_phone else None,
        contact_email=sub.contact_email.strip() if sub.contact_email else None,
        consent=bool(sub.consent),
        caller_number=normalize_phone(sub.caller_number) if sub.caller_number else None,
        call_time=sub.call_time, match_score=score,
        match_method=method if decision == "join" else "new",
        idempotency_key=idempotency_key, created_by_id=getattr(user, "id", None),
    )
    if rows is not None and not sub.files:
        report = RowReport(id=None, **values)
        rows.append((report, case))
        return SubmitResult(report, case, decision, score, verdict, target=target, method=method,
                            urls=urls)
    report = Report(case=case, **values)
    session.add(report)
    for f in sub.files:
        directory = evidence_dir or _default_evidence_dir()
        digest, path = _store_file(directory, f)
        session.add(Evidence(report=report, filename=Path(f.filename).name[:255],
                             media_type=sniff_media_type(f.data), size=len(f.data),
                             sha256=digest, stored_path=path))
    return SubmitResult(report, case, decision, score, verdict, target=target, method=method, urls=urls)


def insert_rows(session: Session, rows: list[tuple[RowReport, Case]]) -> None:
    """Insert the reports `prepare` left in `rows`, once their cases have ids (after the flush),
    in one statement, and give each its id (read back by receipt: the database's order of
    returned rows is not the order of the values on every backend)."""
    if not rows:
        return
    session.execute(insert(Report), [
        {**{k: v for k, v in vars(r).items() if k != "id"}, "case_id": case.id} for r, case in rows])
    ids = dict(session.execute(select(Report.receipt, Report.id)
                               .where(Report.receipt.in_([r.receipt for r, _ in rows]))).all())
    for r, _ in rows:
        r.id = ids[r.receipt]


def finish(session: Session, results: list[tuple[SubmitResult, Any]], *, matcher=None) -> None:
    """After the flush of reports made by `prepare` (each with the user who sent it): their
    suggestions and audit entries, and their place in the claim index once the transaction
    commits."""
    items, suggestions = [], []
    by_user: dict[int | None, tuple[Any, list]] = {}  # one statement per sender for the audit
    for r, user in results:
        if r.decision == "suggest" and r.target is not None:
            suggestions.append({"report_id": r.report.id, "case_id": r.target.id, "score": r.score,
                                "method": r.method})
        after = {"channel": r.report.channel, "case": r.case.id, "decision": r.decision}
        by_user.setdefault(getattr(user, "id", None), (user, []))[1].append((r.report.receipt, after))
        items.append((r.report.id, r.case.id, r.report.text, r.urls, r.verdict))
    if suggestions:
        session.execute(insert(Suggestion), suggestions)
    for user, changes in by_user.values():
        record_many(session, user, "create", "tipline_report", changes)
    if matcher is not None and items:
        # Only once committed: added before, a failed commit (SQLITE_BUSY, disk full) left an id
        # in the index that the database then handed to the next report, and every later add
        # of that id failed until a restart.
        from ictgov.tipline.service import index_reports

        index_reports(session, matcher, items)


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
