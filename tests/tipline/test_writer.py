"""The intake writer: reports that arrive together share one transaction, group with each other,
and each gets its own answer; a failed commit loses nothing it acknowledged and leaves no trace
in the claim index."""

import asyncio
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from ictgov.audit import entries
from ictgov.db import session_factory
from ictgov.tipline.intake import IntakeError, Submission
from ictgov.tipline.models import Report
from ictgov.tipline.service import forget, matcher_for
from ictgov.tipline.writer import IntakeWriter, NotStored

CLAIM = "Bộ Y tế yêu cầu toàn dân tiêm mũi vắc xin thứ năm trước ngày 15 tháng sau nếu không sẽ bị phạt"
REWORDED = "bo y te yeu cau toan dan tiem mui vac xin thu nam truoc ngay 15 thang sau, neu khong se bi phat!!"
OTHER = "Ngân hàng Nhà nước sẽ thu hồi toàn bộ tiền mặt mệnh giá 500 nghìn đồng từ đầu năm tới"


async def _together(writer: IntakeWriter, monkeypatch, calls) -> list:
    """Queue every call before the writer thread starts, so they make one batch."""
    start = writer._ensure_thread
    monkeypatch.setattr(writer, "_ensure_thread", lambda: None)
    tasks = [asyncio.ensure_future(writer.submit(sub, "api", idempotency_key=key)) for sub, key in calls]
    await asyncio.sleep(0)  # each task has queued its report
    monkeypatch.setattr(writer, "_ensure_thread", start)
    start()
    return await asyncio.gather(*tasks, return_exceptions=True)


def _stored(engine) -> set[int]:
    with session_factory(engine)() as s:
        return set(s.scalars(select(Report.id)))


def _indexed_reports(engine) -> set[int]:
    with session_factory(engine)() as s:
        matcher = matcher_for(s)
    return {i for i in matcher.row_by_item_ if isinstance(i, int)}


@pytest.fixture
def fresh_index():
    forget()
    yield
    forget()


def test_reports_arriving_together_are_stored_in_one_commit_and_grouped(engine, monkeypatch, fresh_index):
    writer = IntakeWriter(session_factory(engine))
    answers = asyncio.run(_together(writer, monkeypatch, [
        (Submission(text=CLAIM, category="health"), "k-1"),
        (Submission(text=REWORDED, category="health"), "k-2"),
        (Submission(text="", category="health"), "k-3"),  # refused: no text
        (Submission(text=OTHER, category="economy_finance"), "k-4"),
        (Submission(text=CLAIM, category="health"), "k-1"),  # a gateway sending k-1 again
    ]))
    first, reworded, empty, other, again = answers
    assert writer.batches == 1
    # the reworded report joined the case of the first, made in the same transaction
    assert reworded.decision == "join" and reworded.case_id == first.case_id
    assert other.decision == "new" and other.case_id != first.case_id
    assert isinstance(empty, IntakeError) and "text" in empty.errors
    assert again.receipt == first.receipt and again.created is False
    with session_factory(engine)() as s:
        stored = dict(s.execute(select(Report.receipt, Report.case_id)).all())
    assert stored == {first.receipt: first.case_id, reworded.receipt: first.case_id, other.receipt: other.case_id}
    assert _indexed_reports(engine) == _stored(engine)
    # each stored report audited once, with the case it joined
    with session_factory(engine)() as s:
        audited = {e.entity_id: e.after for e in entries(s, "tipline_report")}
    assert audited == {r.receipt: {"channel": "api", "case": r.case_id, "decision": d}
                       for r, d in ((first, "new"), (reworded, "join"), (other, "new"))}


class _FailingCommits:
    """A sessionmaker whose sessions refuse their first `fail` commits, like a busy database."""

    def __init__(self, engine, fail: int) -> None:
        self.sessions, self.fail = session_factory(engine), fail

    def __call__(self):
        session = self.sessions()
        commit = session.commit

        def refusing() -> None:
            if self.fail > 0:
                self.fail -= 1
                session.flush()  # the rows were written; the commit is what fails
                raise OperationalError("COMMIT", {}, Exception("database is locked"))
            commit()

        session.commit = refusing
        return session


def test_a_batch_whose_commit_fails_is_stored_one_report_at_a_time(engine, monkeypatch, fresh_index):
    writer = IntakeWriter(_FailingCommits(engine, fail=1))
    first, reworded, other = asyncio.run(_together(writer, monkeypatch, [
        (Submission(text=CLAIM), "f-1"), (Submission(text=REWORDED), "f-2"), (Submission(text=OTHER), "f-3")]))
    assert writer.batches == 3  # the batch failed; then one commit per report
    assert reworded.case_id == first.case_id and other.case_id != first.case_id
    with session_factory(engine)() as s:
        assert set(s.scalars(select(Report.receipt))) == {first.receipt, reworded.receipt, other.receipt}
    # the index holds what was committed, and nothing of the batch that was not
    assert _indexed_reports(engine) == _stored(engine)


def test_when_the_database_refuses_nothing_is_acknowledged_or_indexed(engine, monkeypatch, fresh_index):
    writer = IntakeWriter(_FailingCommits(engine, fail=10))
    answers = asyncio.run(_together(writer, monkeypatch, [
        (Submission(text=CLAIM), "n-1"), (Submission(text=OTHER), "n-2")]))
    assert all(isinstance(a, NotStored) for a in answers)
    with session_factory(engine)() as s:
        assert s.scalar(select(func.count()).select_from(Report)) == 0
    assert _indexed_reports(engine) == set()
    # the database is back: the same reports, sent again, are stored
    writer = IntakeWriter(session_factory(engine))
    again = asyncio.run(_together(writer, monkeypatch, [(Submission(text=CLAIM), "n-1")]))
    assert again[0].created and _indexed_reports(engine) == _stored(engine) != set()


def test_a_request_cancelled_while_waiting_is_not_stored_and_the_others_are_answered(
        engine, monkeypatch, fresh_index):
    writer = IntakeWriter(session_factory(engine))

    async def scenario():
        start = writer._ensure_thread
        monkeypatch.setattr(writer, "_ensure_thread", lambda: None)
        gone = asyncio.ensure_future(writer.submit(Submission(text=CLAIM), "api", idempotency_key="c-1"))
        kept = asyncio.ensure_future(writer.submit(Submission(text=OTHER), "api", idempotency_key="c-2"))
        await asyncio.sleep(0)
        gone.cancel()  # the server stopping, say
        await asyncio.sleep(0)
        monkeypatch.setattr(writer, "_ensure_thread", start)
        start()
        with pytest.raises(asyncio.CancelledError):
            await gone
        return await kept

    answer = asyncio.run(scenario())
    assert answer.created and answer.decision == "new"
    with session_factory(engine)() as s:
        assert set(s.scalars(select(Report.idempotency_key))) == {"c-2"}
    assert _indexed_reports(engine) == _stored(engine)


def test_the_writer_waits_for_reports_announced_on_their_way_and_only_for_them(engine, fresh_index):
    # A generous wait, so that the test cannot pass by the writer being slow: what ends each
    # wait is the announced report arriving, or its request ending without one.
    writer = IntakeWriter(session_factory(engine), gather_seconds=30.0)

    async def scenario():
        coming = [writer.expect(), writer.expect()]
        first = asyncio.ensure_future(writer.submit(Submission(text=CLAIM), "api", idempotency_key="g-1",
                                                    arrival=coming[0]))
        await asyncio.sleep(0.3)
        waited = not first.done()  # the second request is still on its way
        second = asyncio.ensure_future(writer.submit(Submission(text=REWORDED), "api", idempotency_key="g-2",
                                                     arrival=coming[1]))
        a, b = await asyncio.gather(first, second)
        refused = writer.expect()  # a request that will be refused before its report is queued
        third = asyncio.ensure_future(writer.submit(Submission(text=OTHER), "api", idempotency_key="g-3"))
        await asyncio.sleep(0.3)
        waited_for_refused = not third.done()
        refused.arrived()
        refused.arrived()  # counted once however often the route says so
        c = await asyncio.wait_for(third, 10)
        # nothing announced: the report is stored at once, not after a wait
        t0 = time.monotonic()
        d = await asyncio.wait_for(writer.submit(Submission(text=OTHER + " vào tháng sau"), "api",
                                                 idempotency_key="g-4"), 10)
        return waited, a, b, waited_for_refused, c, d, time.monotonic() - t0

    waited, a, b, waited_for_refused, c, d, alone = asyncio.run(scenario())
    assert waited and waited_for_refused
    assert writer.batches == 3  # g-1 and g-2 together, then g-3, then g-4
    assert b.case_id == a.case_id and c.created and d.created
    assert alone < 5.0
    assert writer._coming == 0


def test_reporters_answered_by_a_batch_are_waited_for_while_they_are_expected_back(
        engine, monkeypatch, fresh_index):
    writer = IntakeWriter(session_factory(engine), gather_seconds=30.0, return_seconds=30.0)

    async def back_again():
        await _together(writer, monkeypatch, [(Submission(text=CLAIM), "r-1"), (Submission(text=OTHER), "r-2")])
        # both reporters send their next report, one after the other, unannounced
        a = asyncio.ensure_future(writer.submit(Submission(text=REWORDED), "api", idempotency_key="r-3"))
        await asyncio.sleep(0.3)
        waited = not a.done()
        b = asyncio.ensure_future(writer.submit(Submission(text=OTHER + " từ tháng sau"), "api",
                                                idempotency_key="r-4"))
        await asyncio.wait_for(asyncio.gather(a, b), 10)
        return waited

    assert asyncio.run(back_again())
    assert writer.batches == 2  # r-3 and r-4 in one transaction

    # Past `return_seconds` no one is expected back: a report is stored at once.
    writer = IntakeWriter(session_factory(engine), gather_seconds=30.0, return_seconds=0.05)

    async def later():
        await _together(writer, monkeypatch, [(Submission(text=CLAIM + " lần nữa"), "r-5"),
                                              (Submission(text=OTHER + " lần nữa"), "r-6")])
        await asyncio.sleep(0.2)  # r-5's reporter is back; r-6's is not, and no longer expected
        t0 = time.monotonic()
        await asyncio.wait_for(writer.submit(Submission(text=REWORDED + " lần nữa"), "api", idempotency_key="r-7"), 10)
        return time.monotonic() - t0

    assert asyncio.run(later()) < 5.0


def test_a_batch_with_and_without_files_stores_every_report_with_its_evidence(engine, monkeypatch, fresh_index,
                                                                             tmp_path):
    from ictgov.tipline.intake import Upload
    from ictgov.tipline.models import Evidence

    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    writer = IntakeWriter(session_factory(engine))

    async def scenario():
        start = writer._ensure_thread
        monkeypatch.setattr(writer, "_ensure_thread", lambda: None)
        tasks = [asyncio.ensure_future(writer.submit(Submission(text=CLAIM), "api", idempotency_key="e-1")),
                 asyncio.ensure_future(writer.submit(Submission(text=REWORDED, files=[Upload("a.png", png)]), "web",
                                                     evidence_dir=tmp_path)),
                 asyncio.ensure_future(writer.submit(Submission(text=OTHER), "api", idempotency_key="e-3"))]
        await asyncio.sleep(0)
        monkeypatch.setattr(writer, "_ensure_thread", start)
        start()
        return await asyncio.gather(*tasks)

    plain, with_file, other = asyncio.run(scenario())
    assert writer.batches == 1
    assert with_file.case_id == plain.case_id != other.case_id
    with session_factory(engine)() as s:
        stored = {r.receipt: r for r in s.scalars(select(Report))}
        assert set(stored) == {plain.receipt, with_file.receipt, other.receipt}
        assert stored[plain.receipt].idempotency_key == "e-1" and stored[plain.receipt].created_at is not None
        assert [e.filename for e in s.scalars(select(Evidence))] == ["a.png"]
        assert s.scalar(select(Evidence.report_id)) == stored[with_file.receipt].id
        audited = {e.entity_id for e in entries(s, "tipline_report")}
    assert audited == set(stored)
    assert _indexed_reports(engine) == _stored(engine)


def test_a_key_taken_by_another_process_during_the_batch_is_answered_with_its_report(
        engine, monkeypatch, fresh_index):
    from ictgov.tipline import writer as writer_module
    from ictgov.tipline.intake import submit

    real = writer_module._match_early

    def another_process_wins(matcher, batch, used):
        # between the batch's look-up of its keys and its insert, another worker stores "w-1"
        with session_factory(engine)() as s:
            submit(s, Submission(text=CLAIM), "api", idempotency_key="w-1")
            s.commit()
        return real(matcher, batch, used)

    monkeypatch.setattr(writer_module, "_match_early", another_process_wins)
    writer = IntakeWriter(session_factory(engine))
    mine, other = asyncio.run(_together(writer, monkeypatch, [(Submission(text=CLAIM), "w-1"),
                                                              (Submission(text=OTHER), "w-2")]))
    monkeypatch.setattr(writer_module, "_match_early", real)
    with session_factory(engine)() as s:
        by_key = dict(s.execute(select(Report.idempotency_key, Report.receipt)).all())
    assert set(by_key) == {"w-1", "w-2"}  # nothing stored twice, nothing lost
    assert mine.receipt == by_key["w-1"] and mine.created is False
    assert other.receipt == by_key["w-2"] and other.created
    assert _indexed_reports(engine) == _stored(engine)
