"""One-time codes that prove a web visitor holds the number they type.

The web report form, the do-not-call page and the appeal form ask for a number, send a
six-digit code to it (an SMS in the outbox, sent by ``notify``'s senders: the console in
development, an operator's gateway in production) and keep the request waiting in the
code's row until the code comes back. Only an HMAC of the code (keyed with the platform's
secret and the row's random ``ref``) is stored; a code expires after ``TTL`` and allows
``MAX_ATTEMPTS`` wrong tries; it works once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ictgov.antispam.models import OTP_PURPOSES, OneTimeCode
from ictgov.db import utcnow
from ictgov.tipline.models import OutboxMessage

TTL = timedelta(minutes=5)
MAX_ATTEMPTS = 5
DIGITS = 6
# The SMS text, without diacritics: one 160-character GSM-7 message (see shortcode.py).
BODY = {
    "report": "Ma xac thuc phan anh tin rac cua ban la {code}. Ma co hieu luc {minutes} phut. "
              "Khong chia se ma nay cho bat ky ai.",
    "dnc_join": "Ma xac thuc dang ky danh sach khong quang cao (DNC): {code}. Hieu luc {minutes} phut.",
    "dnc_leave": "Ma xac thuc huy dang ky danh sach khong quang cao (DNC): {code}. Hieu luc {minutes} phut.",
    "appeal": "Ma xac thuc khieu nai chan thue bao: {code}. Hieu luc {minutes} phut.",
}


class OtpError(ValueError):
    """A code that does not confirm the request: `reason` is wrong, expired, used or locked."""

    def __init__(self, reason: str, attempts_left: int = 0):
        self.reason, self.attempts_left = reason, attempts_left
        super().__init__(f"code: {reason}")


def _secret() -> str:
    from ictgov.config import get_settings

    return get_settings().resolved_secret_key()


def _digest(secret: str, ref: str, code: str) -> str:
    return hmac.new(secret.encode(), f"{ref}:{code}".encode(), hashlib.sha256).hexdigest()


def issue(session: Session, number: str, purpose: str, payload: dict, *, secret: str | None = None,
          ttl: timedelta = TTL) -> OneTimeCode:
    """A new code for `number`, queued as an SMS in the outbox; the request waits in `payload`."""
    if purpose not in OTP_PURPOSES:
        raise ValueError(f"purpose: must be one of {', '.join(OTP_PURPOSES)}")
    code = "".join(secrets.choice("0123456789") for _ in range(DIGITS))
    ref = secrets.token_urlsafe(18)
    now = utcnow()
    row = OneTimeCode(ref=ref, number=number, purpose=purpose,
                      code_hash=_digest(secret or _secret(), ref, code), payload=payload,
                      expires_at=now + ttl, created_at=now)
    session.add(row)
    session.add(OutboxMessage(channel="sms", recipient=number, subject="OTP",
                              body=BODY[purpose].format(code=code, minutes=int(ttl.total_seconds() // 60))))
    session.flush()
    return row


def pending(session: Session, ref: str) -> OneTimeCode | None:
    """The waiting request of `ref`, if it is still usable (not used, not expired, not locked)."""
    row = session.scalar(select(OneTimeCode).where(OneTimeCode.ref == ref))
    if row is None or row.used_at is not None or row.expires_at <= utcnow() or row.attempts >= MAX_ATTEMPTS:
        return None
    return row


def verify(session: Session, ref: str, code: str, *, secret: str | None = None) -> OneTimeCode:
    """The row whose request `code` confirms, marked used; else OtpError.

    A wrong code counts an attempt, which the caller must commit even though the request
    is refused (or the attempts would never add up).
    """
    row = session.scalar(select(OneTimeCode).where(OneTimeCode.ref == ref).with_for_update())
    if row is None:
        raise OtpError("unknown")
    if row.used_at is not None:
        raise OtpError("used")
    if row.expires_at <= utcnow():
        raise OtpError("expired")
    if row.attempts >= MAX_ATTEMPTS:
        raise OtpError("locked")
    code = "".join(c for c in (code or "") if c.isdigit())
    if not hmac.compare_digest(row.code_hash, _digest(secret or _secret(), row.ref, code)):
        row.attempts += 1
        left = MAX_ATTEMPTS - row.attempts
        raise OtpError("wrong" if left else "locked", left)
    row.used_at = utcnow()
    return row
