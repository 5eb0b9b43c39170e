"""The outbox is drained by the senders; failures are retried, then marked failed, never lost."""

import io

from sqlalchemy import select

from ictgov.notify import MAX_ATTEMPTS, ConsoleSender, SmtpSender, drain, mask
from ictgov.tipline.models import OutboxMessage


class Flaky:
    channel = "sms"

    def __init__(self, fail_times):
        self.fail_times, self.sent = fail_times, []

    def send(self, recipient, subject, body):
        if self.fail_times:
            self.fail_times -= 1
            raise ConnectionError("gateway down")
        self.sent.append(recipient)


def test_drain_sends_retries_and_gives_up(session):
    session.add_all([OutboxMessage(channel="sms", recipient="0912345678", body="x"),
                     OutboxMessage(channel="email", recipient="a@example.vn", subject="s", body="y")])
    session.commit()
    out = io.StringIO()
    flaky = Flaky(fail_times=1)
    assert drain(session, {"sms": flaky, "email": ConsoleSender("email", out)}) == \
        {"sent": 1, "retry": 1, "failed": 0, "no_sender": 0}
    assert "a***@example.vn" in out.getvalue() and "a@example.vn" not in out.getvalue()
    assert drain(session, {"sms": flaky})["sent"] == 1 and flaky.sent == ["0912345678"]
    session.add(OutboxMessage(channel="sms", recipient="0987654321", body="z"))
    session.commit()
    dead = Flaky(fail_times=99)
    for _ in range(MAX_ATTEMPTS):
        drain(session, {"sms": dead})
    msg = session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == "0987654321"))
    assert msg.status == "failed" and msg.attempts == MAX_ATTEMPTS and "gateway down" in msg.last_error


def test_smtp_sender_speaks_smtp(monkeypatch):
    calls = []

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            calls.append(("connect", host, port))

        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

        def starttls(self):
            calls.append(("starttls",))

        def login(self, user, password):
            calls.append(("login", user))

        def send_message(self, msg):
            calls.append(("send", msg["To"], msg["Subject"], msg.get_content().strip()))

    monkeypatch.setattr("ictgov.notify.smtplib.SMTP", FakeSMTP)
    SmtpSender("smtp.example.vn", 587, "u", "p", sender="vafc@example.vn").send("b@example.vn", "Kết luận", "nội dung")
    assert calls == [("connect", "smtp.example.vn", 587), ("starttls",), ("login", "u"),
                     ("send", "b@example.vn", "Kết luận", "nội dung")]
    assert mask("0912345678") == "091****78"
