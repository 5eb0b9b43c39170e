"""This process's writes to groups of tables, counted, so that what is cached from those tables
(figures, pages) can be trusted without asking the database until something changed.

A `TableWrites` counts every INSERT, UPDATE, DELETE or TRUNCATE statement that names one of its tables,
executed through SQLAlchemy by this process, and the commit or rollback of a transaction that
wrote one: a cache entry made when the count was N is current while the count is still N.
Writes by other processes (another web worker, a command) are not seen here: a cache pairs the
count with a recheck interval or a revision it asks the database for.
"""

from __future__ import annotations

import threading

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

_WATCHES: list[TableWrites] = []
_WROTE = "ictgov_wrote"  # Connection.info: names of the watches written in its transaction
_WRITING = ("INSERT", "UPDATE", "DELETE", "TRUNCATE")


class TableWrites:
    def __init__(self, name: str, tables: tuple[str, ...]) -> None:
        self.name, self.tables = name, tables
        self._count = 0
        self._lock = threading.Lock()
        _WATCHES.append(self)

    @property
    def count(self) -> int:
        return self._count

    def bump(self) -> None:
        with self._lock:
            self._count += 1

    def matches(self, statement: str) -> bool:
        return any(t in statement for t in self.tables)

    def wrote_in(self, conn: Connection) -> bool:
        """Whether the open transaction of `conn` has written these tables."""
        return self.name in conn.info.get(_WROTE, ())


@event.listens_for(Engine, "before_cursor_execute")
def _note_write(conn, _cursor, statement, _params, _context, _executemany) -> None:
    if not statement.lstrip()[:8].upper().startswith(_WRITING):
        return
    for watch in _WATCHES:
        if watch.matches(statement):
            conn.info.setdefault(_WROTE, set()).add(watch.name)
            watch.bump()


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _note_end(conn) -> None:
    # the transaction's writes become visible (or vanish): whatever was cached during it is stale
    names = conn.info.pop(_WROTE, None)
    if names:
        for watch in _WATCHES:
            if watch.name in names:
                watch.bump()
