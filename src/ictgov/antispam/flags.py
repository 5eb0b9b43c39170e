"""From a scan's flags to the operator's blocklist: confirmation, blocking, appeals.

```
scan CSV --load--> flagged --confirm--> confirmed (on the blocklist) --mark_blocked--> blocked
                      \\--clear--> cleared        \\--clear / appeal granted--> cleared
```

- ``load_scan`` reads a scan's output (``ictgov antispam scan``): every flagged number
  becomes a flag of its operator with its score and reasons; a number already open (flagged,
  confirmed or blocked) is updated, not duplicated. A scan's flagged number-days
  (``--days-out``) become the daily spam traffic per operator (``SpamTraffic``).
- ``send_survey`` asks recipients of a flagged number (SMS in the outbox) whether the call or
  SMS was spam; ``answer_survey`` records the reply (from the operator's USSD/SMS platform).
  A scan's recipients of each flagged number, when given to ``load_scan``, are kept with the
  flag (``survey_candidates`` lists those not asked yet), so nobody has to type them.
- ``confirm`` puts the number on its operator's blocklist; the operator exports the list
  (``blocklist_csv``), blocks the numbers and says so (``mark_blocked``).
- A blocked subscriber appeals (``submit_appeal``); ministry staff decide
  (``decide_appeal``): granted lifts the block and clears the flag.

Operators act on their own network only, staff on every network; every change of state is
in the audit log.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ictgov import permissions
from ictgov.antispam.models import Appeal, BlockEntry, FlaggedNumber, SpamTraffic, Survey
from ictgov.antispam.operators import code_of, operator_of
from ictgov.audit import record
from ictgov.db import utcnow
from ictgov.text import normalize, normalize_phone, phone_kind
from ictgov.tipline.intake import RECEIPT_ALPHABET
from ictgov.tipline.models import OutboxMessage

OPEN = ("flagged", "confirmed", "blocked")
MAX_SURVEY = 20
SURVEY_BODY = ("Cuc Vien thong: ban vua nhan cuoc goi/tin nhan tu so {number}. Do co phai "
               "cuoc goi/tin nhan rac khong? Tra loi C (co) hoac K (khong). Mien phi.")


class FlagError(ValueError):
    """A change the flags cannot take; `errors` maps each field to its reason."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def may_act(user, operator_code: str | None) -> bool:
    if permissions.can(user, "antispam.staff"):
        return True
    return operator_code is not None and permissions.can(user, "antispam.operator",
                                                         operator_code=operator_code)


def _ensure(user, operator_code: str | None) -> None:
    if not may_act(user, operator_code):
        raise PermissionError("antispam.operator: not a number of your network")


def _read(frame_or_path: pl.DataFrame | str | Path) -> pl.DataFrame:
    if isinstance(frame_or_path, pl.DataFrame):
        return frame_or_path
    return pl.read_csv(frame_or_path, infer_schema_length=10_000,
                       schema_overrides={"number": pl.Utf8, "operator": pl.Utf8, "reasons": pl.Utf8})


def _operator(number: str, written: Any) -> str | None:
    return code_of(written) or operator_of(number)


def _day(v: Any) -> date | None:
    if v is None or v == "":
        return None
    if isinstance(v, date):
        return v
    return date.fromisoformat(str(v)[:10])


def load_scan(session: Session, numbers: pl.DataFrame | str | Path, *, scan: str,
              days: pl.DataFrame | str | Path | None = None, user=None,
              recipients: dict[str, list[str]] | None = None,
              operator_code: str | None = None) -> dict[str, int]:
    """Flags from a scan's output (and the daily spam traffic from its flagged days).

    `recipients` (a scan's, `ScanResult.recipients`) are kept with each flag (up to
    MAX_SURVEY mobile numbers, under ``features["survey_recipients"]``) so that the survey
    goes to them without anyone typing numbers. `operator_code` makes every flag (and day)
    that operator's: an operator's upload of its own records.
    """
    frame = _read(numbers)
    missing = {"number", "flagged", "score", "reasons"} - set(frame.columns)
    if missing:
        raise FlagError({"numbers": f"not a scan output: no column {', '.join(sorted(missing))}"})
    scan = normalize(scan)[:120] or "scan"
    counts = {"flagged": 0, "updated": 0, "days": 0}
    open_flags = {f.number: f for f in session.scalars(
        select(FlaggedNumber).where(FlaggedNumber.status.in_(OPEN)))}
    feature_cols = [c for c in frame.columns if c not in ("number", "flagged", "score", "reasons", "operator")]
    if frame.schema["flagged"] == pl.Boolean:
        flagged = pl.col("flagged")
    else:  # the CSV writes true / false
        flagged = pl.col("flagged").cast(pl.Utf8).str.to_lowercase().is_in(["true", "1"])
    for row in frame.filter(flagged).iter_rows(named=True):
        number = normalize_phone(str(row["number"])) or str(row["number"])
        features = {c: row[c] for c in feature_cols if row[c] is not None}
        features = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in features.items()}
        if recipients and recipients.get(str(row["number"])):
            features[SURVEY_KEY] = _mobiles(recipients[str(row["number"])], number)
        values = dict(score=float(row["score"]), reasons=row["reasons"] or "", features=features,
                      sms_out=int(row.get("sms_out") or 0), calls_out=int(row.get("calls_out") or 0),
                      day=_day(row.get("day")), scan=scan)
        flag = open_flags.get(number)
        if flag is not None:
            if flag.status == "flagged":
                for k, v in values.items():
                    setattr(flag, k, v)
                counts["updated"] += 1
            continue
        flag = FlaggedNumber(number=number, operator_code=operator_code or _operator(number, row.get("operator")),
                             status="flagged", **values)
        session.add(flag)
        session.flush()
        open_flags[number] = flag
        record(session, user, "flag", "antispam_flag", flag.id,
               after={"status": "flagged", "operator": flag.operator_code, "score": flag.score,
                      "scan": scan})
        counts["flagged"] += 1
    if days is not None:
        counts["days"] = load_days(session, days, scan=scan, operator_code=operator_code)
    return counts


SURVEY_KEY = "survey_recipients"


def _mobiles(numbers: list[str], sender: str) -> list[str]:
    out = []
    for raw in numbers:
        n = normalize_phone(str(raw))
        if n and phone_kind(n) == "mobile" and n != sender and n not in out:
            out.append(n)
    return out[:MAX_SURVEY]


def survey_candidates(flag: FlaggedNumber) -> list[str]:
    """The scan's recipients of a flagged number that have not been asked yet."""
    asked = {s.recipient for s in flag.surveys}
    return [n for n in (flag.features or {}).get(SURVEY_KEY, []) if n not in asked]


def load_days(session: Session, days: pl.DataFrame | str | Path, *, scan: str,
              operator_code: str | None = None) -> int:
    """The spam SMS and calls of a scan's flagged number-days, per day and operator (replacing
    what an earlier scan said about the same days)."""
    frame = _read(days)
    totals: dict[tuple[date, str], list[int]] = {}
    for row in frame.iter_rows(named=True):
        number = normalize_phone(str(row["number"])) or str(row["number"])
        op = operator_code or _operator(number, row.get("operator"))
        day = _day(row.get("day"))
        if op is None or day is None:
            continue
        t = totals.setdefault((day, op), [0, 0, 0])
        t[0] += int(row.get("sms_out") or 0)
        t[1] += int(row.get("calls_out") or 0)
        t[2] += 1
    existing = {(r.day, r.operator_code): r for r in session.scalars(
        select(SpamTraffic).where(SpamTraffic.day.in_({d for d, _ in totals})))} if totals else {}
    for (day, op), (sms, calls, n) in totals.items():
        row = existing.get((day, op))
        if row is None:
            session.add(SpamTraffic(day=day, operator_code=op, spam_sms=sms, spam_calls=calls,
                                    numbers=n, scan=scan))
        else:
            row.spam_sms, row.spam_calls, row.numbers, row.scan = sms, calls, n, scan
            row.updated_at = utcnow()
    session.flush()
    return len(totals)


def visible(session: Session, user, *, operator_code: str | None = None, status: str | None = None,
            limit: int = 500) -> list[FlaggedNumber]:
    """Flags the user may see, highest score first: staff all (or one operator's), an operator its own."""
    if not permissions.can(user, "antispam.staff"):
        operator_code = permissions.scope_of(user, "antispam.operator").get("operator_code")
        if operator_code is None:
            return []
    q = select(FlaggedNumber).order_by(FlaggedNumber.score.desc(), FlaggedNumber.id).limit(limit)
    if operator_code:
        q = q.where(FlaggedNumber.operator_code == operator_code)
    if status:
        q = q.where(FlaggedNumber.status == status)
    return list(session.scalars(q))


def _move(session: Session, flag: FlaggedNumber, user, to: str, allowed: tuple[str, ...], note: str = "") -> None:
    _ensure(user, flag.operator_code)
    if flag.status not in allowed:
        raise FlagError({"status": f"a {flag.status} number cannot become {to}"})
    before = flag.status
    flag.status, flag.decided_by_id = to, getattr(user, "id", None)
    if note:
        flag.note = normalize(note)[:2000]
    record(session, user, to, "antispam_flag", flag.id, before={"status": before},
           after={"status": to, "note": flag.note or None})


def _active_block(session: Session, number: str) -> BlockEntry | None:
    return session.scalar(select(BlockEntry).where(BlockEntry.number == number,
                                                   BlockEntry.unblocked_at.is_(None)))


def confirm(session: Session, flag: FlaggedNumber, user, note: str = "") -> BlockEntry:
    """Confirmed spam: the number goes on its operator's blocklist."""
    _move(session, flag, user, "confirmed", ("flagged",), note)
    flag.confirmed_at = utcnow()
    entry = _active_block(session, flag.number)
    if entry is None:
        entry = BlockEntry(number=flag.number, operator_code=flag.operator_code, flag_id=flag.id,
                           reason=flag.reasons[:2000], added_by_id=getattr(user, "id", None))
        session.add(entry)
        session.flush()
        record(session, user, "block", "antispam_blocklist", entry.id,
               after={"flag": flag.id, "operator": flag.operator_code})
    return entry


def clear(session: Session, flag: FlaggedNumber, user, note: str) -> FlaggedNumber:
    """Not spam after all (a shop, a driver): cleared, and off the blocklist if it was on it."""
    if len(normalize(note or "")) < 5:
        raise FlagError({"note": "required: why the number is not a spammer (at least 5 characters)"})
    _move(session, flag, user, "cleared", OPEN, note)
    flag.cleared_at = utcnow()
    entry = _active_block(session, flag.number)
    if entry is not None:
        _unblock(session, entry, user, flag.note)
    return flag


def _unblock(session: Session, entry: BlockEntry, user, reason: str) -> None:
    entry.unblocked_at, entry.unblock_reason = utcnow(), reason[:2000]
    record(session, user, "unblock", "antispam_blocklist", entry.id, after={"reason": entry.unblock_reason})


def mark_blocked(session: Session, user, operator_code: str) -> int:
    """The operator has blocked every confirmed number of its list: they become blocked."""
    _ensure(user, operator_code)
    n = 0
    for flag in session.scalars(select(FlaggedNumber).where(FlaggedNumber.operator_code == operator_code,
                                                            FlaggedNumber.status == "confirmed")):
        _move(session, flag, user, "blocked", ("confirmed",))
        flag.blocked_at = utcnow()
        n += 1
    return n


def blocklist(session: Session, operator_code: str | None) -> list[BlockEntry]:
    q = select(BlockEntry).where(BlockEntry.unblocked_at.is_(None)).order_by(BlockEntry.number)
    if operator_code:
        q = q.where(BlockEntry.operator_code == operator_code)
    return list(session.scalars(q))


def blocklist_csv(session: Session, operator_code: str | None) -> str:
    """The numbers to block (national form), one a row: number, operator, since, flag, reasons."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["number", "operator", "added_at", "flag_id", "reasons"])
    for e in blocklist(session, operator_code):
        w.writerow([e.number, e.operator_code or "", e.added_at.isoformat(timespec="seconds"),
                    e.flag_id or "", e.reason])
    return out.getvalue()


# -- confirmation surveys --------------------------------------------------------------------


def split_recipients(text: str) -> list[str]:
    """Numbers as an operator types them: one a line, or separated by commas or semicolons;
    spaces inside a number stay ("0912 345 678")."""
    return [part.strip() for part in re.split(r"[\r\n,;]+", text or "") if part.strip()]


def send_survey(session: Session, flag: FlaggedNumber, user, recipients: list[str]) -> list[Survey]:
    """Ask recipients of a flagged number whether it sent them spam (one SMS each, in the outbox)."""
    _ensure(user, flag.operator_code)
    if flag.status not in ("flagged",):
        raise FlagError({"status": f"a {flag.status} number is not surveyed"})
    numbers, bad = [], []
    for raw in recipients:
        n = normalize_phone(raw)
        (numbers if n and phone_kind(n) == "mobile" else bad).append(n or raw)
    if bad:
        raise FlagError({"recipients": f"not mobile numbers: {', '.join(str(b)[:20] for b in bad[:5])}"})
    asked = {s.recipient for s in flag.surveys}
    new = [n for n in dict.fromkeys(numbers) if n not in asked and n != flag.number]
    if not new:
        raise FlagError({"recipients": "give at least one recipient not asked yet"})
    if len(asked) + len(new) > MAX_SURVEY:
        raise FlagError({"recipients": f"at most {MAX_SURVEY} recipients a number"})
    made = []
    for n in new:
        survey = Survey(flag=flag, recipient=n)
        session.add(survey)
        session.add(OutboxMessage(channel="sms", recipient=n, subject="survey",
                                  body=SURVEY_BODY.format(number=flag.number)))
        made.append(survey)
    session.flush()
    record(session, user, "survey", "antispam_flag", flag.id, after={"asked": len(made)})
    return made


def answer_survey(session: Session, survey: Survey, yes: bool, user=None) -> Survey:
    """A recipient's answer (C = yes, it was spam; K = no), as the operator's platform got it."""
    _ensure(user, survey.flag.operator_code)
    if survey.answer is not None:
        raise FlagError({"answer": "already answered"})
    survey.answer, survey.answered_at = bool(yes), utcnow()
    record(session, user, "survey_answer", "antispam_flag", survey.flag_id,
           after={"survey": survey.id, "spam": bool(yes)})
    return survey


def tally(flag: FlaggedNumber) -> dict[str, int]:
    answers = [s.answer for s in flag.surveys]
    return {"asked": len(answers), "yes": sum(a is True for a in answers),
            "no": sum(a is False for a in answers), "waiting": sum(a is None for a in answers)}


# -- appeals ---------------------------------------------------------------------------------


def new_appeal_receipt() -> str:
    return "KN-" + "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(8))


def check_appeal(session: Session, raw_number: str, reason: str) -> dict[str, str]:
    """Every problem with an appeal, by field (checked before a code is sent, and again after)."""
    number = normalize_phone(raw_number or "")
    errors = {}
    entry = _active_block(session, number) if number else None
    if number is None or phone_kind(number) != "mobile":
        errors["number"] = "not a Vietnamese mobile number"
    elif entry is None:
        errors["number"] = "this number is not on any blocklist"
    elif session.scalar(select(func.count()).select_from(Appeal).where(
            Appeal.block_id == entry.id, Appeal.status == "pending")):
        errors["number"] = "an appeal of this block is already waiting for a decision"
    reason = normalize(reason or "")
    if len(reason) < 10:
        errors["reason"] = "required: why the block is wrong (at least 10 characters)"
    elif len(reason) > 2000:
        errors["reason"] = "at most 2000 characters"
    return errors


def submit_appeal(session: Session, raw_number: str, reason: str) -> Appeal:
    """A blocked subscriber's appeal (the number proven by a one-time code before this call)."""
    errors = check_appeal(session, raw_number, reason)
    if errors:
        raise FlagError(errors)
    number = normalize_phone(raw_number)
    entry = _active_block(session, number)
    appeal = Appeal(receipt=new_appeal_receipt(), block_id=entry.id, number=number,
                    operator_code=entry.operator_code, reason=normalize(reason))
    session.add(appeal)
    session.flush()
    record(session, None, "appeal", "antispam_appeal", appeal.receipt,
           after={"block": entry.id, "operator": entry.operator_code, "status": "pending"})
    return appeal


def decide_appeal(session: Session, appeal: Appeal, user, grant: bool, note: str) -> Appeal:
    """Staff decide: granted lifts the block and clears the flag; rejected keeps both."""
    if not permissions.can(user, "antispam.staff"):
        raise PermissionError("antispam.staff: only ministry staff decide appeals")
    if appeal.status != "pending":
        raise FlagError({"status": f"already {appeal.status}"})
    note = normalize(note or "")
    if len(note) < 5:
        raise FlagError({"note": "required: the reason for the decision (at least 5 characters)"})
    appeal.status = "granted" if grant else "rejected"
    appeal.decision_note, appeal.decided_by_id, appeal.decided_at = note[:2000], user.id, utcnow()
    record(session, user, appeal.status, "antispam_appeal", appeal.receipt,
           before={"status": "pending"}, after={"status": appeal.status})
    if grant:
        entry = session.get(BlockEntry, appeal.block_id)
        if entry is not None and entry.unblocked_at is None:
            _unblock(session, entry, user, f"appeal {appeal.receipt}: {note}")
        if entry is not None and entry.flag_id:
            flag = session.get(FlaggedNumber, entry.flag_id)
            if flag is not None and flag.status in OPEN:
                _move(session, flag, user, "cleared", OPEN, f"appeal {appeal.receipt}")
                flag.cleared_at = utcnow()
    return appeal


def appeal_status(session: Session, receipt: str) -> dict[str, Any] | None:
    appeal = session.scalar(select(Appeal).where(Appeal.receipt == (receipt or "").strip().upper()))
    if appeal is None:
        return None
    return {"receipt": appeal.receipt, "status": appeal.status,
            "received_at": appeal.created_at.isoformat(timespec="seconds"),
            "decision": appeal.decision_note or None}


def appeals_visible(session: Session, user, *, status: str | None = None, limit: int = 200) -> list[Appeal]:
    q = select(Appeal).order_by(Appeal.created_at.desc()).limit(limit)
    if not permissions.can(user, "antispam.staff"):
        operator_code = permissions.scope_of(user, "antispam.operator").get("operator_code")
        if operator_code is None:
            return []
        q = q.where(Appeal.operator_code == operator_code)
    if status:
        q = q.where(Appeal.status == status)
    return list(session.scalars(q))
