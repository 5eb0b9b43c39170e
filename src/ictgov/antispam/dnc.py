"""The do-not-call registry (Decree 91/2020): numbers whose holders refuse advertising.

A number joins or leaves by the short code (``DK DNC`` / ``HUY DNC`` to 5656) or on the web
(with a one-time code sent to it). An advertiser checks a list of numbers and learns only
which of them may not be contacted: nothing about when or how they joined, and nothing
about the numbers that may be contacted. Every change is in the audit log by the entry's id
(never by the number).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ictgov.antispam.models import DncEntry
from ictgov.audit import record
from ictgov.db import utcnow
from ictgov.text import normalize_phone, phone_kind

CHANNELS = ("shortcode", "web")
MAX_CHECK = 10_000


class DncError(ValueError):
    """Input the registry cannot take; `errors` maps each field (or list position) to its reason."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def _number(raw: str) -> str:
    number = normalize_phone(raw or "")
    if number is None or phone_kind(number) not in ("mobile", "landline"):
        raise DncError({"number": "not a Vietnamese subscriber number"})
    return number


def _entry(session: Session, number: str) -> DncEntry | None:
    return session.scalar(select(DncEntry).where(DncEntry.number == number))


def join(session: Session, raw_number: str, channel: str, *, user=None) -> DncEntry:
    """Put a number on the list (joining again when it is already on changes nothing)."""
    if channel not in CHANNELS:
        raise DncError({"channel": f"must be one of {', '.join(CHANNELS)}"})
    number = _number(raw_number)
    entry = _entry(session, number)
    if entry is not None and entry.listed:
        return entry
    now = utcnow()
    if entry is None:
        entry = DncEntry(number=number, listed=True, joined_at=now, joined_channel=channel)
        session.add(entry)
        session.flush()
    else:
        entry.listed, entry.joined_at, entry.joined_channel = True, now, channel
    record(session, user, "join", "antispam_dnc", entry.id, after={"listed": True, "channel": channel})
    return entry


def leave(session: Session, raw_number: str, channel: str, *, user=None) -> DncEntry | None:
    """Take a number off the list; None when it was never on it."""
    if channel not in CHANNELS:
        raise DncError({"channel": f"must be one of {', '.join(CHANNELS)}"})
    entry = _entry(session, _number(raw_number))
    if entry is None or not entry.listed:
        return entry
    entry.listed, entry.left_at, entry.left_channel = False, utcnow(), channel
    record(session, user, "leave", "antispam_dnc", entry.id, before={"listed": True},
           after={"listed": False, "channel": channel})
    return entry


def is_listed(session: Session, raw_number: str) -> bool:
    number = normalize_phone(raw_number or "")
    entry = _entry(session, number) if number else None
    return bool(entry and entry.listed)


def listed_numbers(session: Session) -> set[str]:
    """Every number on the list now, national form (for the advertisers' audit)."""
    return set(session.scalars(select(DncEntry.number).where(DncEntry.listed.is_(True))))


def check(session: Session, numbers: list[str]) -> list[str]:
    """Which of `numbers` may not be contacted, as the advertiser wrote them, in their order.

    A list with an entry that is not a Vietnamese number is refused whole, every bad entry
    named by its position (0-based), so an advertiser never takes a typo for "allowed".
    """
    if len(numbers) > MAX_CHECK:
        raise DncError({"numbers": f"at most {MAX_CHECK} numbers a request"})
    national: list[str] = []
    errors: dict[str, str] = {}
    for i, raw in enumerate(numbers):
        n = normalize_phone(raw) if isinstance(raw, str) else None
        if n is None or phone_kind(n) not in ("mobile", "landline"):
            errors[f"numbers.{i}"] = f"{str(raw)[:30]!r} is not a Vietnamese subscriber number"
        national.append(n or "")
    if errors:
        raise DncError(dict(list(errors.items())[:50]))
    listed: set[str] = set()
    distinct = sorted(set(national))
    for k in range(0, len(distinct), 500):
        chunk = distinct[k:k + 500]
        listed |= set(session.scalars(select(DncEntry.number).where(
            DncEntry.number.in_(chunk), DncEntry.listed.is_(True))))
    return [raw for raw, n in zip(numbers, national) if n in listed]
