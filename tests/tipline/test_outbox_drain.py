"""The outbox drain is safe to run twice at once and after a kill -9: no notice twice.

Each notice is claimed (committed) before it is sent and marked sent (committed) right
after; on both backends two drains racing over the same outbox, and a drain killed in the
middle of a batch then run again, send every notice exactly once.
"""

from __future__ import annotations

import ast
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from ictgov import db as dbmod
from ictgov import jobs, notify
from ictgov.tipline.models import OutboxMessage

SRC = Path(__file__).resolve().parents[2] / "src"


class Gateway:
    """An SMS gateway that takes a little time per message and remembers what it delivered."""

    channel = "sms"

    def __init__(self, delay: float = 0.0) -> None:
        self.delay, self.delivered, self._lock = delay, [], threading.Lock()

    def send(self, recipient, subject, body):
        time.sleep(self.delay)
        with self._lock:
            self.delivered.append(recipient)


def _fill(engine, n: int) -> list[str]:
    numbers = [f"09{i:08d}" for i in range(n)]
    with dbmod.session_scope(engine) as s:
        s.add_all(OutboxMessage(channel="sms", recipient=r, body=f"notice {i}") for i, r in enumerate(numbers))
    return numbers


def test_two_drains_at_once_send_every_notice_once(engine):
    numbers = _fill(engine, 60)
    gateway = Gateway(delay=0.003)
    counts = []
    start = threading.Barrier(2)

    def run():
        with dbmod.session_scope(engine) as s:
            start.wait()
            counts.append(notify.drain(s, {"sms": gateway}, limit=100))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(gateway.delivered) == numbers  # each once, none missing
    assert sum(c["sent"] for c in counts) == 60 and all(c["sent"] > 0 for c in counts)  # both worked
    with dbmod.session_scope(engine) as s:
        assert s.scalar(select(func.count()).where(OutboxMessage.status == "sent")) == 60
        assert s.scalar(select(func.count()).where(OutboxMessage.claim_token.is_not(None))) == 0


DRAIN_SCRIPT = """
import os, sys, time
from datetime import timedelta
from ictgov import db, notify

class FileGateway:
    channel = "sms"
    def send(self, recipient, subject, body):
        time.sleep(0.15)  # the network: a kill lands here, before the gateway has the message
        with open(sys.argv[2], "a") as f:
            f.write(recipient + "\\n")
            f.flush()
            os.fsync(f.fileno())

with db.session_scope(db.get_engine(sys.argv[1])) as s:
    notify.drain(s, {"sms": FileGateway()}, limit=100, lease=timedelta(seconds=float(sys.argv[3])))
"""


def test_a_drain_killed_mid_batch_sends_nothing_twice(engine, backend_url, tmp_path):
    numbers = _fill(engine, 30)
    delivered = tmp_path / "gateway.log"
    delivered.touch()
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    proc = subprocess.Popen([sys.executable, "-c", DRAIN_SCRIPT, backend_url, str(delivered), "3"],
                            env=env, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(delivered.read_text().split()) < 8:
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "the drain sent nothing"
        time.sleep(0.02)
    time.sleep(0.06)  # let the 8th be marked sent and the 9th claimed: the kill is mid-send
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    before_kill = delivered.read_text().split()
    assert 8 <= len(before_kill) < 30

    # At once: the notices sent before the kill are marked sent, the one in flight is still
    # claimed by the dead drain; a new drain sends only the others.
    with dbmod.session_scope(engine) as s:
        in_flight = s.scalars(select(OutboxMessage.recipient)
                              .where(OutboxMessage.claim_token.is_not(None))).all()
        assert s.scalar(select(func.count()).where(OutboxMessage.status == "sent")) == len(before_kill)
    assert len(in_flight) == 1 and in_flight[0] not in before_kill
    gateway = Gateway()
    with dbmod.session_scope(engine) as s:
        notify.drain(s, {"sms": gateway}, limit=100)
    assert not set(gateway.delivered) & set(before_kill)
    assert len(gateway.delivered) == 30 - len(before_kill) - 1 and in_flight[0] not in gateway.delivered
    # Once the dead drain's lease has lapsed, the notice it held goes too.
    time.sleep(3.2)
    with dbmod.session_scope(engine) as s:
        notify.drain(s, {"sms": gateway}, limit=100)
    assert sorted(before_kill + gateway.delivered) == numbers
    with dbmod.session_scope(engine) as s:
        assert s.scalar(select(func.count()).where(OutboxMessage.status == "sent")) == 30


def test_every_caller_queues_the_drain_under_one_key(engine):
    # Whoever asks (a verdict published, an antispam code, a survey) while a drain is queued
    # or running joins that drain instead of starting a second one.
    gate = threading.Event()
    b = jobs.InlineBackend(workers=1)
    jobs.use(b)
    try:
        original = notify.drain

        def slow_drain(session, senders, limit=100, lease=notify.LEASE):
            gate.wait(10)
            return original(session, senders, limit=limit, lease=lease)

        notify.drain = slow_drain
        try:
            first = notify.schedule_drain()
            second = notify.schedule_drain(limit=100)
            assert second.id == first.id
        finally:
            gate.set()
            b.wait()
            notify.drain = original
        assert [j.name for j in b.recent()] == ["notify.drain"]
    finally:
        jobs.use(None)

    # and no module queues it any other way (a second key would mean a second drain)
    for path in SRC.rglob("*.py"):
        if path.name == "notify.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "enqueue":
                names = [a.value for a in node.args if isinstance(a, ast.Constant)]
                assert notify.DRAIN_JOB not in names, f"{path}: use notify.schedule_drain()"


def test_lease_is_long_enough_for_a_send():
    assert notify.LEASE >= timedelta(minutes=1)
