"""Abuse limits of the public report form: a sliding window per key, in memory, per process.

The same idea as the login limiter (``web.routes.auth.LoginLimiter``): each key keeps the
times of its recent events in a deque; an event is allowed while fewer than ``limit`` fall
in the last ``window`` seconds. The public form keys one limiter by the client's address
and one by the reporter's contact (phone in national form, or e-mail in lower case), so
neither one address nor one contact can flood the centre's queue.

Per process: with several workers each keeps its own counts, so the effective limit is
``limit × workers`` (acceptable for abuse limits; a shared store comes with Redis).
"""

from __future__ import annotations

import threading
import time
from collections import deque


class SlidingWindowLimiter:
    """At most ``limit`` events per key in any ``window`` seconds."""

    def __init__(self, limit: int, window_seconds: float, max_keys: int = 100_000) -> None:
        if limit < 1 or window_seconds <= 0:
            raise ValueError("limit must be ≥ 1 and window_seconds > 0")
        self.limit = limit
        self.window = float(window_seconds)
        self.max_keys = max_keys
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float] | None:
        times = self._events.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._events[key]
            return None
        return times

    def retry_after(self, key: str, now: float | None = None) -> float:
        """Seconds until ``key`` may act again; 0 when it may now."""
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._recent(key, now)
            if times is None or len(times) < self.limit:
                return 0.0
            return max(0.0, times[-self.limit] + self.window - now)

    def hit(self, key: str, now: float | None = None) -> None:
        """Record one event for ``key``."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if key not in self._events and len(self._events) >= self.max_keys:
                # Bounded memory under a flood of keys: forget the oldest one.
                self._events.pop(next(iter(self._events)))
            self._events.setdefault(key, deque()).append(now)

    def allow(self, key: str, now: float | None = None) -> float:
        """Record the event if allowed and return 0; else record nothing and return the wait."""
        now = time.monotonic() if now is None else now
        wait = self.retry_after(key, now)
        if wait == 0.0:
            self.hit(key, now)
        return wait


class ReportLimits:
    """The public form's two limits: per client address and per reporter contact."""

    def __init__(self, per_ip: int = 10, ip_window: float = 10 * 60,
                 per_contact: int = 5, contact_window: float = 60 * 60) -> None:
        self.by_ip = SlidingWindowLimiter(per_ip, ip_window)
        self.by_contact = SlidingWindowLimiter(per_contact, contact_window)

    @staticmethod
    def contact_keys(phone: str | None, email: str | None) -> list[str]:
        """Keys for a contact: the phone in national form, the e-mail in lower case."""
        from ictgov.text import normalize_phone

        keys = []
        if phone and phone.strip():
            keys.append("tel:" + (normalize_phone(phone) or phone.strip()))
        if email and email.strip():
            keys.append("mail:" + email.strip().lower())
        return keys

    def contact_wait(self, keys: list[str]) -> float:
        return max((self.by_contact.retry_after(k) for k in keys), default=0.0)

    def contact_hit(self, keys: list[str]) -> None:
        for k in keys:
            self.by_contact.hit(k)
