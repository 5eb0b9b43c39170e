"""Whole pages kept for visitors who are not signed in, for pages that show what a group of
tables holds (the fake-news centre's published verdicts and statistics).

A kept page is served again while this process has written none of its tables since it was
rendered and for at most `ICTGOV_FIGURES_RECHECK_S` seconds (what another worker wrote shows
within that time). The pages of figures keep theirs per revision of the data instead
(`stats.figures.Figures.memo`). `deps.render_shared` and `deps.shared_page` do the rendering
and the serving; this holds the pages.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from ictgov.writes import TableWrites


class KeptPages:
    def __init__(self, writes: TableWrites, limit: int = 512) -> None:
        self.writes, self.limit = writes, limit
        self._pages: OrderedDict[Any, tuple[int, float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any, recheck_s: float | None = None) -> bytes | None:
        if recheck_s is None:
            from ictgov.config import get_settings

            recheck_s = get_settings().figures_recheck_s
        with self._lock:
            entry = self._pages.get(key)
            if entry is None:
                return None
            writes, at, body = entry
            if writes != self.writes.count or time.monotonic() - at >= recheck_s:
                del self._pages[key]
                return None
            self._pages.move_to_end(key)
            return body

    def keep(self, key: Any, build: Callable[[], bytes]) -> bytes:
        """`build()` the page and keep it (as of the count of writes before it was built)."""
        writes, at = self.writes.count, time.monotonic()
        body = build()
        with self._lock:
            self._pages[key] = (writes, at, body)
            while len(self._pages) > self.limit:
                self._pages.popitem(last=False)
        return body

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()


# the public pages of the fake-news centre: verdicts, their list and the statistics
TIPLINE = KeptPages(TableWrites("tipline_public", ("tipline_cases", "tipline_reports", "tipline_report_moves")))
