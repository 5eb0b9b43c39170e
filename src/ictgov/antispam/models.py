"""Tables of the anti-spam service: citizens' reports, one-time codes, the do-not-call
registry, numbers flagged by a scan, recipients' confirmation surveys, the operators'
blocklist, appeals of blocked subscribers, and the spam traffic detected per day.

A report is the citizen's own submission: after its receipt is issued only its routing,
its status, the operator's answer and the staff's label change. Personal data (the
reporter's number, a survey recipient's number, an appellant's contact) is shown only to
the roles that need it and never logged.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ictgov import auth  # noqa: F401  (users, referenced by foreign keys below)
from ictgov.db import Base, utcnow

REPORT_KINDS = ("sms", "call", "scam_call", "forward")
REPORT_CHANNELS = ("shortcode", "web")
# received: no operator to route to (a brandname, a landline, a forward): ministry staff;
# routed: waiting for the operator's answer; answered: the operator answered.
REPORT_STATES = ("received", "routed", "answered")
ANSWER_ACTIONS = ("blocked", "warned", "investigating", "not_spam", "not_ours")
LABELS = ("spam", "ham")
OTP_PURPOSES = ("report", "dnc_join", "dnc_leave", "appeal")
FLAG_STATES = ("flagged", "confirmed", "blocked", "cleared")
APPEAL_STATES = ("pending", "granted", "rejected")


class SpamReport(Base):
    __tablename__ = "antispam_reports"
    __table_args__ = (Index("ix_antispam_reports_operator_status", "operator_code", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt: Mapped[str] = mapped_column(String(16), unique=True)
    kind: Mapped[str] = mapped_column(String(12))
    channel: Mapped[str] = mapped_column(String(12))
    # Personal data: the number that received the spam (the reporter's own).
    reporter_number: Mapped[str] = mapped_column(String(20))
    # A number in national form, or a brandname upper-cased; None for a forwarded ad.
    source: Mapped[str | None] = mapped_column(String(40), index=True)
    content: Mapped[str] = mapped_column(Text, default="")
    spam_score: Mapped[float | None] = mapped_column(Float)
    evidence_filename: Mapped[str | None] = mapped_column(String(255))
    evidence_media_type: Mapped[str | None] = mapped_column(String(64))
    evidence_size: Mapped[int | None]
    evidence_sha256: Mapped[str | None] = mapped_column(String(64))
    evidence_path: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(12), default="received")
    operator_code: Mapped[str | None] = mapped_column(String(32))
    answer: Mapped[str] = mapped_column(Text, default="")
    answer_action: Mapped[str | None] = mapped_column(String(16))
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None]
    # Staff's confirmation of the content (training data for the classifier).
    label: Mapped[str | None] = mapped_column(String(8))
    labelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The SMS gateway's message id: a gateway that posts the same SMS twice makes one report.
    gateway_id: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class OneTimeCode(Base):
    """A code sent to a number to prove the sender holds it; the request waits in `payload`."""

    __tablename__ = "antispam_otps"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Random and unguessable: names the pending request in its confirmation page's URL.
    ref: Mapped[str] = mapped_column(String(32), unique=True)
    number: Mapped[str] = mapped_column(String(20), index=True)
    purpose: Mapped[str] = mapped_column(String(12))
    code_hash: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    attempts: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DncEntry(Base):
    """One number of the do-not-call registry: whether it is on the list now, and when and
    through which channel it last joined and left (every change is in the audit log)."""

    __tablename__ = "antispam_dnc"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    listed: Mapped[bool] = mapped_column(default=True, index=True)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    joined_channel: Mapped[str] = mapped_column(String(12))
    left_at: Mapped[datetime | None]
    left_channel: Mapped[str | None] = mapped_column(String(12))


class FlaggedNumber(Base):
    """A number a scan flagged, with its score and reasons, until it is blocked or cleared."""

    __tablename__ = "antispam_flags"
    __table_args__ = (Index("ix_antispam_flags_operator_status", "operator_code", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), index=True)
    operator_code: Mapped[str | None] = mapped_column(String(32))
    scan: Mapped[str] = mapped_column(String(120))
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[str] = mapped_column(Text, default="")
    features: Mapped[dict] = mapped_column(JSON, default=dict)
    sms_out: Mapped[int] = mapped_column(default=0)
    calls_out: Mapped[int] = mapped_column(default=0)
    day: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="flagged")
    note: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    flagged_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    confirmed_at: Mapped[datetime | None]
    blocked_at: Mapped[datetime | None]
    cleared_at: Mapped[datetime | None]

    surveys: Mapped[list[Survey]] = relationship(back_populates="flag")


class Survey(Base):
    """A question to one recipient of a flagged number: was that call or SMS spam?"""

    __tablename__ = "antispam_surveys"
    __table_args__ = (UniqueConstraint("flag_id", "recipient"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    flag_id: Mapped[int] = mapped_column(ForeignKey("antispam_flags.id"), index=True)
    # Personal data: the recipient asked.
    recipient: Mapped[str] = mapped_column(String(20))
    answer: Mapped[bool | None]
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]

    flag: Mapped[FlaggedNumber] = relationship(back_populates="surveys")


class BlockEntry(Base):
    """A number on its operator's blocklist (active while `unblocked_at` is empty)."""

    __tablename__ = "antispam_blocklist"
    __table_args__ = (Index("ix_antispam_blocklist_operator_number", "operator_code", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20))
    operator_code: Mapped[str | None] = mapped_column(String(32))
    flag_id: Mapped[int | None] = mapped_column(ForeignKey("antispam_flags.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    unblocked_at: Mapped[datetime | None]
    unblock_reason: Mapped[str] = mapped_column(Text, default="")


class Appeal(Base):
    """A blocked subscriber asks for the block to be lifted; ministry staff decide."""

    __tablename__ = "antispam_appeals"

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt: Mapped[str] = mapped_column(String(16), unique=True)
    block_id: Mapped[int] = mapped_column(ForeignKey("antispam_blocklist.id"), index=True)
    number: Mapped[str] = mapped_column(String(20))
    operator_code: Mapped[str | None] = mapped_column(String(32), index=True)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    decision_note: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SpamTraffic(Base):
    """Spam SMS and calls detected on one day on one operator's network (from a scan's
    flagged number-days): the daily series behind the monthly figures."""

    __tablename__ = "antispam_traffic"
    __table_args__ = (UniqueConstraint("day", "operator_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    operator_code: Mapped[str] = mapped_column(String(32))
    spam_sms: Mapped[int] = mapped_column(default=0)
    spam_calls: Mapped[int] = mapped_column(default=0)
    numbers: Mapped[int] = mapped_column(default=0)
    scan: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
