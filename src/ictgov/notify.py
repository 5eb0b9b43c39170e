"""Sending what the outbox holds: e-mail over SMTP, SMS through a pluggable gateway, or the
console in development.

A notice is written to the outbox in the same transaction as the change it reports, so a
verdict is never published without its notices being queued; `drain` sends them later and
records each attempt, so a failure is retried and visible, never lost.
"""

from __future__ import annotations

import smtplib
import sys
from email.message import EmailMessage
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from ictgov.db import utcnow
from ictgov.jobs import job
from ictgov.tipline.models import OutboxMessage

MAX_ATTEMPTS = 5


class Sender(Protocol):
    channel: str

    def send(self, recipient: str, subject: str, body: str) -> None: ...


def mask(recipient: str) -> str:
    """A recipient as it may appear in output: enough to tell two apart, not enough to contact."""
    if "@" in recipient:
        name, _, domain = recipient.partition("@")
        return f"{name[:1]}***@{domain}"
    return recipient[:3] + "****" + recipient[-2:]


class ConsoleSender:
    """Development: prints the notice (recipient masked) instead of sending it."""

    def __init__(self, channel: str, stream=None) -> None:
        self.channel = channel
        self.stream = stream or sys.stdout

    def send(self, recipient: str, subject: str, body: str) -> None:
        self.stream.write(f"[{self.channel} to {mask(recipient)}] {subject}\n{body}\n")


class SmtpSender:
    channel = "email"

    def __init__(self, host: str, port: int = 587, username: str | None = None,
                 password: str | None = None, sender: str = "noreply@localhost", starttls: bool = True,
                 timeout: float = 10.0) -> None:
        self.host, self.port, self.username, self.password = host, port, username, password
        self.sender, self.starttls, self.timeout = sender, starttls, timeout

    def send(self, recipient: str, subject: str, body: str) -> None:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self.sender, recipient, subject
        msg.set_content(body)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(msg)


def drain(session: Session, senders: dict[str, Sender], limit: int = 100) -> dict[str, int]:
    """Send pending notices; each attempt is recorded, and after MAX_ATTEMPTS a notice is marked failed."""
    counts = {"sent": 0, "retry": 0, "failed": 0, "no_sender": 0}
    pending = session.scalars(select(OutboxMessage).where(OutboxMessage.status == "pending")
                              .order_by(OutboxMessage.id).limit(limit))
    for msg in pending:
        sender = senders.get(msg.channel)
        if sender is None:
            counts["no_sender"] += 1
            continue
        msg.attempts += 1
        try:
            sender.send(msg.recipient, msg.subject, msg.body)
        except Exception as exc:  # any transport error: keep it, retry later
            msg.last_error = f"{exc.__class__.__name__}: {exc}"[:500]
            if msg.attempts >= MAX_ATTEMPTS:
                msg.status = "failed"
                counts["failed"] += 1
            else:
                counts["retry"] += 1
            continue
        msg.status, msg.sent_at, msg.last_error = "sent", utcnow(), ""
        counts["sent"] += 1
    return counts


def senders_from_settings(settings=None) -> dict[str, Sender]:
    """E-mail through SMTP when ICTGOV_SMTP_HOST is set, else the console; SMS on the console
    until an operator's gateway is plugged in (any object with ``channel`` and ``send``)."""
    from ictgov.config import get_settings

    settings = settings or get_settings()
    email: Sender = (SmtpSender(settings.smtp_host, settings.smtp_port, settings.smtp_user,
                                settings.smtp_password, settings.smtp_from)
                     if settings.smtp_host else ConsoleSender("email"))
    return {"email": email, "sms": ConsoleSender("sms")}


@job("notify.drain", retries=5, backoff=(10, 60, 300, 900, 3600))
def drain_outbox(limit: int = 500) -> dict[str, int]:
    """Send the notices waiting in the outbox (each notice keeps its own attempts)."""
    from ictgov.db import session_scope

    with session_scope() as s:
        counts = drain(s, senders_from_settings(), limit=limit)
    if counts["retry"]:
        # some sends failed: fail the job so the queue retries it after its back-off
        raise RuntimeError(f"{counts['retry']} notices could not be sent yet (they stay pending)")
    return counts
