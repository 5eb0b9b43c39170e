"""The matcher a process keeps in memory, built once from the stored reports.

One per database: the web app, the CLI and the tests share the code, not the index. The
index is updated as reports come in; a second process (another worker) builds its own and
sees reports added elsewhere only after a restart — issue 6 moves this to a shared index.
"""

from __future__ import annotations

import threading

from sqlalchemy import select
from sqlalchemy.orm import Session

from ictgov.tipline.match import ClaimMatcher
from ictgov.tipline.models import Case, Report

_matchers: dict[str, ClaimMatcher] = {}
_lock = threading.Lock()


def _key(session: Session) -> str:
    return session.get_bind().url.render_as_string(hide_password=False)


def matcher_for(session: Session) -> ClaimMatcher:
    key = _key(session)
    with _lock:
        if key not in _matchers:
            matcher = ClaimMatcher()
            rows = session.execute(
                select(Report.id, Report.case_id, Report.text, Report.urls, Case.state, Case.verdict)
                .join(Case, Case.id == Report.case_id).order_by(Report.id)
            ).all()
            matcher.add_many(
                (rid, cid, text, urls or (), verdict if state == "published" else None)
                for rid, cid, text, urls, state, verdict in rows
            )
            _matchers[key] = matcher
        return _matchers[key]


def forget(session: Session | None = None) -> None:
    """Drop the cached index (tests, or after bulk changes made outside this process)."""
    with _lock:
        if session is None:
            _matchers.clear()
        else:
            _matchers.pop(_key(session), None)


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
