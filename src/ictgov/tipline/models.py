"""Tables of the fake-news centre: reports from the public, the cases they are grouped into,
evidence files, match suggestions awaiting a fact-checker, and the outbox of notifications.

A report is the citizen's own submission and is never changed after its receipt is issued
(only the case it belongs to may change); a case is the claim the centre works on.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ictgov import auth  # noqa: F401  (users, referenced by foreign keys below)
from ictgov.db import Base, utcnow

CHANNELS = ("web", "hotline", "api", "email", "chatbot")
# What a partner channel (POST /api/tipline/reports) may say it received the report through.
PARTNER_CHANNELS = ("api", "email", "chatbot")
PLATFORMS = ("facebook", "zalo", "tiktok", "youtube", "website", "sms", "other")
# The centre's eight fields (lĩnh vực), in its order.
CATEGORIES = (
    "policy_law", "economy_finance", "health", "disasters_epidemics",
    "security_order", "fake_accounts", "scam_links", "other",
)
CASE_STATES = (
    "new", "triaged", "assigned", "verifying", "decided", "published",
    "closed_duplicate", "closed_out_of_scope",
)
VERDICTS = ("fake", "false", "true", "unverifiable")


class Case(Base):
    __tablename__ = "tipline_cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(32), default="other")
    state: Mapped[str] = mapped_column(String(24), default="new", index=True)
    priority: Mapped[float] = mapped_column(Float, default=0.0, index=True)
    report_count: Mapped[int] = mapped_column(default=0)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    agency: Mapped[str] = mapped_column(String(200), default="")
    due_date: Mapped[date | None]
    verdict: Mapped[str | None] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text, default="")
    summary_en: Mapped[str] = mapped_column(Text, default="")
    evidence_notes: Mapped[str] = mapped_column(Text, default="")
    sources: Mapped[list] = mapped_column(JSON, default=list)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("tipline_cases.id"))
    slug: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]

    reports: Mapped[list[Report]] = relationship(back_populates="case", foreign_keys="Report.case_id")


class Report(Base):
    __tablename__ = "tipline_reports"
    __table_args__ = (Index("ix_tipline_reports_case_created", "case_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt: Mapped[str] = mapped_column(String(16), unique=True)
    channel: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    urls: Mapped[list] = mapped_column(JSON, default=list)
    platform: Mapped[str] = mapped_column(String(16), default="other")
    category: Mapped[str] = mapped_column(String(32), default="other")
    reach: Mapped[int | None]
    # Personal data: shown only to roles that need it, never logged.
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    contact_email: Mapped[str | None] = mapped_column(String(200))
    consent: Mapped[bool] = mapped_column(default=False)
    caller_number: Mapped[str | None] = mapped_column(String(20))
    call_time: Mapped[datetime | None]
    case_id: Mapped[int] = mapped_column(ForeignKey("tipline_cases.id"))
    match_score: Mapped[float | None] = mapped_column(Float)
    match_method: Mapped[str] = mapped_column(String(16), default="new")
    idempotency_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    case: Mapped[Case] = relationship(back_populates="reports", foreign_keys=[case_id])
    evidence: Mapped[list[Evidence]] = relationship(back_populates="report")


class Evidence(Base):
    __tablename__ = "tipline_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("tipline_reports.id"))
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    stored_path: Mapped[str] = mapped_column(String(500))

    report: Mapped[Report] = relationship(back_populates="evidence")


class ReportMove(Base):
    """A report put into another case after its intake (duplicates closed, a suggestion
    confirmed, a report taken out of a case). Append-only: every process's claim index reads
    the moves after the last one it applied, so a move made through one web worker regroups the
    next report on all of them."""

    __tablename__ = "tipline_report_moves"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("tipline_reports.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("tipline_cases.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Suggestion(Base):
    """A report whose best match fell between the two thresholds: a fact-checker decides."""

    __tablename__ = "tipline_suggestions"
    __table_args__ = (UniqueConstraint("report_id", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("tipline_reports.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("tipline_cases.id"))
    score: Mapped[float] = mapped_column(Float)
    method: Mapped[str] = mapped_column(String(16))
    decision: Mapped[str | None] = mapped_column(String(12))  # confirmed | rejected
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxMessage(Base):
    """A notification to send; written in the same transaction as the change it reports."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))  # email | sms
    recipient: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(8), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    # A drain claims a notice before sending it (see ictgov.notify.drain): another drain skips
    # it until the lease runs out, which only happens if the claiming worker died.
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[datetime | None]
