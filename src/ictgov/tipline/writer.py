"""The intake's writer: reports that arrive together are stored in one transaction (group commit).

With one transaction per report, concurrent requests queue for SQLite's single write lock
(its busy handler sleeps between tries, up to tens of milliseconds each) and every receipt
pays its own commit. Here the requests of a process hand their reports to one writer thread,
which stores whatever has arrived meanwhile and commits once; every receipt is still
answered only after its report is committed. The writer completes a batch with the reports
known to be on their way (announced by their routes, or from reporters it has just answered)
before it starts, waiting a few milliseconds at most (`IntakeWriter._gather`).

A batch is matched against the claim index before its first insert (so another process's
writer can write meanwhile), each report also against the batch's earlier ones
(`ClaimMatcher.pairwise`), so that two reports of one claim in one batch join one case; then
its new cases are flushed once and its reports inserted as rows in one statement
(`intake.insert_rows`). The index learns of the batch only once it is committed. A batch that
fails as a whole (a database error, another process winning an `Idempotency-Key` race) is
retried one report per transaction, so a single bad report costs the others nothing and each
gets its own answer.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import Histogram
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ictgov.auth import User
from ictgov.tipline.intake import (
    IntakeError,
    Submission,
    SubmitResult,
    check,
    claim_of,
    finish,
    insert_rows,
    prepare,
    replay_of,
    replayed,
    submit,
)
from ictgov.tipline.match import Match
from ictgov.tipline.models import Case, Report
from ictgov.tipline.service import matcher_for

log = logging.getLogger(__name__)

# Enough to cover what piles up during one commit at hundreds of reports a second, small
# enough that one transaction stays short for the readers of other processes.
MAX_BATCH = 64
# The longest the writer waits to complete a batch (`IntakeWriter._gather`): a few times what a
# request takes from its route to the queue on a busy process.
GATHER_SECONDS = 0.01
_GATHER_STEP = 0.0005
# How long the reporters answered by a batch are expected back with their next report: a partner
# gateway with several reports in flight sends the next as soon as it has a receipt.
RETURN_SECONDS = 0.05
# An idle writer thread ends; the next report starts a new one (tests build many apps).
IDLE_SECONDS = 5.0


# Reports per transaction: how well the group commit works (a steady load far from
# MAX_BATCH in small batches means each report pays a commit of its own).
BATCH_REPORTS = Histogram("ictgov_tipline_intake_batch_reports",
                          "Reports stored per intake transaction",
                          buckets=(1, 2, 4, 8, 12, 16, 24, 32, 48, 64))


class NotStored(RuntimeError):
    """The database refused the report (busy, disk full): nothing of it was saved."""


@dataclass(frozen=True)
class Receipt:
    """What the reporter is told, read before the session that stored it closed."""

    receipt: str
    case_id: int
    decision: str
    verdict: str | None
    created: bool


class Arrival:
    """A request on its way to the writer: counted from the moment its route starts until its
    report is queued (or the request ends without one). See `IntakeWriter._gather`."""

    __slots__ = ("_writer",)

    def __init__(self, writer: IntakeWriter) -> None:
        self._writer: IntakeWriter | None = writer
        with writer._lock:
            writer._coming += 1

    def arrived(self) -> None:
        """The report is queued, or will not be (refused, failed): counted once either way."""
        writer, self._writer = self._writer, None
        if writer is not None:
            with writer._lock:
                writer._coming -= 1


@dataclass
class _Item:
    sub: Submission
    channel: str
    # Read by the request (deps.require_apart), detached: only its id and name are used.
    user: User | None
    idempotency_key: str | None
    evidence_dir: Path | None
    future: asyncio.Future  # of the request's event loop


class IntakeWriter:
    """One per web app (so per database): `await writer.submit(...)` stores a report."""

    def __init__(self, sessions: sessionmaker[Session], max_batch: int = MAX_BATCH,
                 idle_seconds: float = IDLE_SECONDS, gather_seconds: float = GATHER_SECONDS,
                 return_seconds: float = RETURN_SECONDS) -> None:
        self._sessions, self.max_batch, self.idle_seconds = sessions, max_batch, idle_seconds
        self.gather_seconds, self.return_seconds = gather_seconds, return_seconds
        self._coming = 0  # requests on their way (Arrival)
        # reporters answered by the last batch who have not sent again, until when expected
        self._returning, self._returning_until = 0, 0.0
        self._queue: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.batches = 0  # transactions committed (tests read it)

    def expect(self) -> Arrival:
        """Announce a request that will most likely bring a report: the writer gathering a batch
        waits for it (a few milliseconds at most). Call `arrived()` on the result once the
        report is handed to `submit` (which does it) or the request ends without one."""
        return Arrival(self)

    async def submit(self, sub: Submission, channel: str, *, user: User | None = None,
                     idempotency_key: str | None = None, evidence_dir: Path | None = None,
                     arrival: Arrival | None = None) -> Receipt:
        """Store one report; returns once it is committed. Raises IntakeError (the fields at
        fault) or NotStored (the database refused; nothing was saved)."""
        future = asyncio.get_running_loop().create_future()
        # A blank key is no key (as in `submit`).
        key = (idempotency_key or "").strip() or None
        self._queue.put(_Item(sub, channel, user, key, evidence_dir, future))
        if self._returning > 0:
            with self._lock:  # one back (or a new reporter: the count is an estimate)
                self._returning = max(self._returning - 1, 0)
        if arrival is not None:
            arrival.arrived()  # after the put: never "nothing coming" with the report not queued
        self._ensure_thread()
        return await future

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="tipline-intake-writer", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=self.idle_seconds)
            except queue.Empty:
                with self._lock:
                    # a report queued after the timeout but before this check is ours to store
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            batch = self._gather(first)
            # A request cancelled while it waited (the server stopping) is not stored: no one
            # is there for its receipt. (Cancelled later, it is stored and its answer dropped.)
            batch = [item for item in batch if not item.future.cancelled()]
            if not batch:
                continue
            try:
                self._store(batch)
            except BaseException as exc:  # noqa: BLE001 - never leave a request waiting
                log.exception("tipline: the intake writer failed on a batch of %d", len(batch))
                _answer(batch, [NotStored(str(exc))] * len(batch))

    def _gather(self, first: _Item) -> list[_Item]:
        """`first`, what is queued, and the reports known to be on their way (up to `max_batch`).

        Taking only what is queued splits a steady load into small batches: under 16 requests
        in flight, batches of 3 and 13 in turns and many of 1 (the requests answered by one
        batch are still being parsed when the next is taken), or, once the writer waits for
        announced requests, batches of 8 in turns (half the reporters are still reading their
        receipts). Each batch costs a commit, a look at what other processes stored and the
        fixed costs of matching: at 8 a batch about a fifth more CPU per report than at 16.
        So the writer waits, `gather_seconds` at most, while requests are announced
        (`expect`) or reporters answered by the last batch, within `return_seconds`, have not
        sent again; as PostgreSQL's commit_delay waits only while commit_siblings are active.
        With neither it does not wait at all, and while it waits the web thread has the
        interpreter to itself for the requests it waits for."""
        batch = [first]
        deadline = None
        while len(batch) < self.max_batch:
            try:
                batch.append(self._queue.get_nowait())
                continue
            except queue.Empty:
                pass
            now = time.monotonic()
            if self._coming <= 0 and (self._returning <= 0 or now >= self._returning_until):
                break
            if deadline is None:
                deadline = now + self.gather_seconds
            if now >= deadline:
                break
            try:
                # short steps: a request refused on the way ends the wait at the next one
                batch.append(self._queue.get(timeout=min(deadline - now, _GATHER_STEP)))
            except queue.Empty:
                continue
        return batch

    def _store(self, batch: list[_Item]) -> None:
        """Store `batch` in one transaction; if that fails, each report in one of its own."""
        alone = len(batch) == 1
        session = self._sessions()
        try:
            matcher = matcher_for(session)
            if alone:
                item = batch[0]
                try:
                    # Alone, a report is stored as any other: an Idempotency-Key race lost to
                    # another process is answered with the winner's receipt.
                    outcomes: list[SubmitResult | IntakeError] = [submit(
                        session, item.sub, item.channel, matcher=matcher,
                        user=item.user,
                        idempotency_key=item.idempotency_key, evidence_dir=item.evidence_dir)]
                except IntakeError as exc:
                    outcomes = [exc]
            else:
                outcomes = self._prepare_batch(session, matcher, batch)
            session.commit()
        except Exception as exc:
            session.rollback()
            session.close()
            if alone:
                if not isinstance(exc, SQLAlchemyError):
                    log.exception("tipline: a report could not be stored")
                _answer(batch, [NotStored("the database refused the report")])
                return
            log.warning("tipline: a batch of %d reports failed (%s); storing them one by one",
                        len(batch), type(exc).__name__)
            for item in batch:
                self._store([item])
            return
        except BaseException:
            session.rollback()
            session.close()
            raise
        answers = [o if isinstance(o, IntakeError) else _receipt(o) for o in outcomes]
        session.close()
        self.batches += 1
        BATCH_REPORTS.observe(len(batch))
        with self._lock:
            self._returning = len(batch)
            self._returning_until = time.monotonic() + self.return_seconds
        _answer(batch, answers)

    @staticmethod
    def _prepare_batch(session: Session, matcher, batch: list[_Item]) -> list:
        """Add the batch's reports to `session` and flush them once: each grouped as it would be
        alone, and with the batch's earlier reports. Returns each one's result or IntakeError."""
        # One look-up for the whole batch's keys; a key seen twice in the batch is answered
        # with the first report of the batch that carried it.
        keys = [i.idempotency_key for i in batch if i.idempotency_key]
        used = set(session.scalars(select(Report.idempotency_key).where(Report.idempotency_key.in_(keys)))) \
            if keys else set()
        # Matched before the first insert takes the write lock: another process's writer can
        # write while this one matches.
        early, refused = _match_early(matcher, batch, used)
        # The cases matched, read in one query: each report's look-up of its case then finds
        # it in the session instead of reading it.
        # (Held in `read` for the batch: the session keeps only weak references to them.)
        wanted = {m.case_id for _, _, found in early.values() for m in found}
        read = session.scalars(select(Case).where(Case.id.in_(wanted))).all() if wanted else []
        # No flush until the batch is complete: a query on the way (a case not read above, a
        # replayed key) must not flush the reports added so far one by one.
        rows: list = []  # the reports without files, inserted as rows once their cases have ids
        with session.no_autoflush:
            outcomes, made = _add_batch(session, matcher, batch, early, refused, used, rows)
        del read
        session.flush()  # the new cases (and any report with files)
        insert_rows(session, rows)  # a key raced by another process fails the batch here
        finish(session, [(result, user) for _, result, user in made], matcher=matcher)
        return outcomes


def _add_batch(session: Session, matcher, batch: list[_Item], early: dict, refused: dict,
               used: set[str], rows: list) -> tuple[list, list]:
    """Add the batch's reports to `session` (see `IntakeWriter._prepare_batch`); returns each
    one's result or IntakeError, and (position, result, user) of those added."""
    # each report matched early against the earlier ones of the batch, by position in `early`
    at = {n: i for i, n in enumerate(early)}
    scores, exact = matcher.pairwise([early[n][:2] for n in early]) if len(early) > 1 else (None, None)
    outcomes: list[SubmitResult | IntakeError] = []
    made: list[tuple[int, SubmitResult, User | None]] = []
    by_key: dict[str, SubmitResult] = {}
    for n, item in enumerate(batch):
        key = item.idempotency_key
        try:
            if key is not None and key in by_key:
                first = by_key[key]
                outcomes.append(replayed(first.report, first.case, item.sub, first.score, first.verdict))
                continue
            if key is not None and key in used:
                outcomes.append(replay_of(session, item.sub, key))
                continue
            if n in refused:
                raise IntakeError(refused[n])
            matches, cases = None, None
            if n in early:
                matches, cases = list(early[n][2]), {}
                for m, earlier, _ in made:
                    if m not in at:
                        continue
                    score = scores[at[n], at[m]]
                    if score >= matcher.suggest_threshold:
                        # a case of this batch, maybe not flushed yet: named by position
                        matches.append(Match(("batch", m), ("batch", m), float(score),
                                             "exact" if exact[at[n], at[m]] else "similar", earlier.verdict))
                        cases[("batch", m)] = earlier.case
            user = item.user
            result = prepare(session, item.sub, item.channel, matcher=matcher, user=user,
                             idempotency_key=key, evidence_dir=item.evidence_dir,
                             matches=matches, cases=cases, checked=n in early, rows=rows)
        except IntakeError as exc:
            outcomes.append(exc)
            continue
        made.append((n, result, user))
        if key is not None:
            by_key[key] = result
        outcomes.append(result)
    return outcomes, made


def _match_early(matcher, batch: list[_Item], used: set[str]) -> tuple[dict, dict]:
    """The matches against what is stored already of each report of `batch` that will be
    stored (not a replay, no field at fault): its position -> (text, links, matches); and the
    fields at fault of each refused report, by position."""
    claims: dict[int, tuple[str, list[str]]] = {}
    refused: dict[int, dict[str, str]] = {}
    keys = set(used)
    for n, item in enumerate(batch):
        key = item.idempotency_key
        if key is not None and key in keys:
            continue  # a replay: answered with the stored report
        keys.add(key)
        errors = check(item.sub, item.channel)
        if errors:
            refused[n] = errors
            continue
        try:
            claims[n] = claim_of(item.sub)
        except ValueError:
            continue  # prepare matches it itself and says what is wrong
    matcher.warm(list(claims.values()))
    early: dict[int, tuple[str, list[str], list]] = {}
    for n, (text, urls) in claims.items():
        try:
            early[n] = (text, urls, matcher.match(text, urls))
        except ValueError:
            continue
    return early, refused


def _answer(items: list[_Item], answers: list) -> None:
    """Hand each request its answer (a Receipt or an exception) on its event loop: one wake-up
    of each loop for the batch, not one per request."""
    by_loop: dict[asyncio.AbstractEventLoop, list] = {}
    for item, answer in zip(items, answers):
        by_loop.setdefault(item.future.get_loop(), []).append((item.future, answer))
    for loop, pairs in by_loop.items():
        try:
            loop.call_soon_threadsafe(_deliver, pairs)
        except RuntimeError:
            pass  # the loop has closed (the server stopped): no one is waiting


def _deliver(pairs: list) -> None:
    for future, answer in pairs:
        if future.done():
            continue  # cancelled meanwhile
        if isinstance(answer, BaseException):
            future.set_exception(answer)
        else:
            future.set_result(answer)


def _receipt(result) -> Receipt:
    return Receipt(result.report.receipt, result.case.id, result.decision, result.verdict, result.created)


def writer_for(app) -> IntakeWriter:
    """The app's writer, made on first use."""
    writer = getattr(app.state, "tipline_writer", None)
    if writer is None:
        writer = app.state.tipline_writer = IntakeWriter(app.state.sessionmaker)
    return writer
