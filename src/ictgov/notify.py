"""Sending what the outbox holds: e-mail over SMTP, SMS through a pluggable gateway, or the
console in development.

A notice is written to the outbox in the same transaction as the change it reports, so a
verdict is never published without its notices being queued; `drain` sends them later and
records each attempt, so a failure is retried and visible, never lost.
"""

from __future__ import annotations

import smtplib
import sys
import uuid
from datetime import timedelta
from email.message import EmailMessage
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

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

    def send(self, recipient: str, subject: str, body: str, message_id: str | None = None) -> None:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self.sender, recipient, subject
        if message_id:
            domain = self.sender.rpartition("@")[2] or "localhost"
            msg["Message-ID"] = f"<{message_id}@{domain}>"
        msg.set_content(body)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(msg)


DRAIN_JOB = "notify.drain"
# Every caller queues the drain under this one key, so while a drain is queued or running a
# second request to drain joins it instead of starting another.
DRAIN_KEY = "notify.drain"
# How long a claim keeps other drains away from a notice: far longer than one send takes, so
# only a drain that died (kill -9, lost machine) lets its claim lapse.
LEASE = timedelta(minutes=5)


def schedule_drain(limit: int = 500):
    """Queue the outbox drain (the one job for every service that writes notices)."""
    from ictgov import jobs

    return jobs.enqueue(DRAIN_JOB, idempotency_key=DRAIN_KEY, limit=limit)


def _claim_next(session: Session, channels: list[str], after: int, token: str,
                lease: timedelta):
    """Claim the first pending notice after id `after` and commit the claim; returns its row
    (id, channel, recipient, subject, body, attempts), None when there is none.

    One UPDATE statement: on SQLite it takes the single write lock, so two drains are
    serialised; on PostgreSQL the row is picked with FOR UPDATE SKIP LOCKED and the claim
    condition is checked again on the locked row, so two drains never claim the same notice.
    """
    now = utcnow()
    free = (OutboxMessage.status == "pending") & (
        OutboxMessage.claimed_until.is_(None) | (OutboxMessage.claimed_until < now))
    candidate = (select(OutboxMessage.id)
                 .where(free, OutboxMessage.channel.in_(channels), OutboxMessage.id > after)
                 .order_by(OutboxMessage.id).limit(1)
                 .with_for_update(skip_locked=True).scalar_subquery())
    claimed = session.execute(
        update(OutboxMessage).where(OutboxMessage.id == candidate, free)
        .values(claim_token=token, claimed_until=now + lease, attempts=OutboxMessage.attempts + 1)
        .returning(OutboxMessage.id, OutboxMessage.channel, OutboxMessage.recipient,
                   OutboxMessage.subject, OutboxMessage.body, OutboxMessage.attempts)
        .execution_options(synchronize_session=False)).first()
    session.commit()
    return claimed


def _settle(session: Session, msg_id: int, token: str, **values) -> None:
    """Record a send's outcome and release the claim, if it is still ours; commit."""
    session.execute(update(OutboxMessage)
                    .where(OutboxMessage.id == msg_id, OutboxMessage.claim_token == token)
                    .values(claim_token=None, claimed_until=None, **values)
                    .execution_options(synchronize_session=False))
    session.commit()


def drain(session: Session, senders: dict[str, Sender], limit: int = 100,
          lease: timedelta = LEASE) -> dict[str, int]:
    """Send pending notices, each claimed and committed on its own; after MAX_ATTEMPTS a
    notice is marked failed.

    Safe to run twice at once and after a crash: a notice is claimed (committed) before it
    is sent and marked sent (committed) right after, so a second drain skips it and a drain
    killed mid-batch leaves every notice it had sent marked as sent. Only the notice in
    the gateway's hands at the instant of a kill can be sent again, once its lease lapses
    (at-least-once, never lost); the SMTP Message-ID is derived from the notice so mail
    servers can recognise the repeat.
    """
    counts = {"sent": 0, "retry": 0, "failed": 0, "no_sender": 0}
    channels = sorted(senders)
    counts["no_sender"] = len(session.scalars(
        select(OutboxMessage.id).where(OutboxMessage.status == "pending",
                                       OutboxMessage.channel.not_in(channels)).limit(limit)).all())
    token = uuid.uuid4().hex
    after = 0
    for _ in range(limit):
        msg = _claim_next(session, channels, after, token, lease)
        if msg is None:
            break
        msg_id = after = msg.id  # a notice that failed is retried by the next drain, not this one
        try:
            sender = senders[msg.channel]
            if isinstance(sender, SmtpSender):
                sender.send(msg.recipient, msg.subject, msg.body, message_id=f"outbox-{msg.id}")
            else:
                sender.send(msg.recipient, msg.subject, msg.body)
        except Exception as exc:  # any transport error: keep it, retry later
            give_up = msg.attempts >= MAX_ATTEMPTS
            _settle(session, msg_id, token, last_error=f"{exc.__class__.__name__}: {exc}"[:500],
                    status="failed" if give_up else "pending")
            counts["failed" if give_up else "retry"] += 1
        else:
            _settle(session, msg_id, token, status="sent", sent_at=utcnow(), last_error="")
            counts["sent"] += 1
        stale = session.identity_map.get(identity_key(OutboxMessage, msg_id))
        if stale is not None:
            session.expire(stale)  # the caller's copy: its row changed behind the ORM's back
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


@job(DRAIN_JOB, retries=5, backoff=(10, 60, 300, 900, 3600))
def drain_outbox(limit: int = 500) -> dict[str, int]:
    """Send the notices waiting in the outbox (each notice keeps its own attempts)."""
    from ictgov.db import session_scope

    with session_scope() as s:
        counts = drain(s, senders_from_settings(), limit=limit)
    if counts["retry"]:
        # some sends failed: fail the job so the queue retries it after its back-off
        raise RuntimeError(f"{counts['retry']} notices could not be sent yet (they stay pending)")
    return counts
