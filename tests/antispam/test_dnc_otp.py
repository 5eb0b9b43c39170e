"""The do-not-call registry and the one-time codes of the web forms."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from ictgov.antispam import dnc, otp
from ictgov.antispam.dnc import DncError
from ictgov.antispam.models import OneTimeCode
from ictgov.audit import entries
from ictgov.tipline.models import OutboxMessage

SECRET = "test-secret"


def test_join_leave_and_join_again_keep_time_and_channel(session):
    e = dnc.join(session, "+84 912 345 678", "web")
    assert (e.number, e.listed, e.joined_channel) == ("0912345678", True, "web")
    assert dnc.join(session, "0912345678", "shortcode").joined_channel == "web"  # already on it
    dnc.leave(session, "0912.345.678", "shortcode")
    assert (e.listed, e.left_channel) == (False, "shortcode") and e.left_at is not None
    dnc.join(session, "0912345678", "shortcode")
    assert e.listed and e.joined_channel == "shortcode"
    assert [x.action for x in entries(session, "antispam_dnc")] == ["join", "leave", "join"]
    assert all("0912345678" not in str(x.after) and x.entity_id == str(e.id)
               for x in entries(session, "antispam_dnc"))
    assert dnc.leave(session, "0987654321", "web") is None  # never on it: nothing to do


def test_check_tells_only_which_may_not_be_contacted(session):
    dnc.join(session, "0912345678", "web")
    dnc.join(session, "0987654321", "shortcode")
    dnc.leave(session, "0987654321", "web")
    asked = ["+84912345678", "0987654321", "0901234567", "091 234 5678"]
    assert dnc.check(session, asked) == ["+84912345678", "091 234 5678"]
    with pytest.raises(DncError) as exc:
        dnc.check(session, ["0912345678", "12", "hello"])
    assert set(exc.value.errors) == {"numbers.1", "numbers.2"}
    with pytest.raises(DncError):
        dnc.join(session, "123", "web")


def _sent_code(session, number: str) -> str:
    msg = session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == number)
                          .order_by(OutboxMessage.id.desc())).first()
    return "".join(c for c in msg.body if c.isdigit())[:6]


def test_code_is_sent_stored_hashed_and_works_once(session):
    row = otp.issue(session, "0912345678", "report", {"kind": "sms"}, secret=SECRET)
    code = _sent_code(session, "0912345678")
    assert len(code) == 6 and code not in row.code_hash and len(row.code_hash) == 64
    assert otp.pending(session, row.ref) is row
    assert otp.verify(session, row.ref, code, secret=SECRET).payload == {"kind": "sms"}
    with pytest.raises(otp.OtpError, match="used"):
        otp.verify(session, row.ref, code, secret=SECRET)
    assert otp.pending(session, row.ref) is None


def test_wrong_codes_lock_the_request_and_expired_codes_fail(session):
    row = otp.issue(session, "0912345678", "dnc_join", {}, secret=SECRET)
    code = _sent_code(session, "0912345678")
    wrong = "000000" if code != "000000" else "111111"
    for left in range(otp.MAX_ATTEMPTS - 1, 0, -1):
        with pytest.raises(otp.OtpError) as exc:
            otp.verify(session, row.ref, wrong, secret=SECRET)
        assert (exc.value.reason, exc.value.attempts_left) == ("wrong", left)
    with pytest.raises(otp.OtpError, match="locked"):
        otp.verify(session, row.ref, wrong, secret=SECRET)
    with pytest.raises(otp.OtpError, match="locked"):
        otp.verify(session, row.ref, code, secret=SECRET)  # even the right code, now
    late = otp.issue(session, "0912345678", "dnc_leave", {}, secret=SECRET, ttl=timedelta(seconds=-1))
    with pytest.raises(otp.OtpError, match="expired"):
        otp.verify(session, late.ref, _sent_code(session, "0912345678"), secret=SECRET)
    with pytest.raises(otp.OtpError, match="unknown"):
        otp.verify(session, "nope", "123456", secret=SECRET)
    assert session.scalar(select(OneTimeCode).where(OneTimeCode.ref == row.ref)).attempts == otp.MAX_ATTEMPTS
