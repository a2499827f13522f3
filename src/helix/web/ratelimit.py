"""Login rate limiting: failed sign-ins counted per (email, client address) and per address.

After ``max_failures`` failed attempts for one email from one address within
``window`` seconds, further attempts are refused (HTTP 429 with ``Retry-After``)
until the oldest failure leaves the window, whatever the password; an address
trying many emails is stopped after ``max_per_address`` failures. A successful
sign-in clears that email's count. The counts live in the serving process (one
``helix serve``); restarting it forgets them.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

__all__ = ["LoginLimiter", "limiter_of"]


class LoginLimiter:
    """Sliding-window counts of failed logins."""

    def __init__(
        self,
        max_failures: int = 5,
        window: float = 15 * 60,
        max_per_address: int = 50,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self.max_per_address = max_per_address
        self.clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def retry_after(self, email: str, address: str) -> int | None:
        """Seconds until ``email`` may try again from ``address``, or None when it may now."""
        now = self.clock()
        with self._lock:
            waits = []
            for key, limit in (
                ((email.strip().lower(), address), self.max_failures),
                (("*", address), self.max_per_address),
            ):
                times = self._recent(key, now)
                if len(times) >= limit:
                    waits.append(times[len(times) - limit] + self.window - now)
        return max(1, math.ceil(max(waits))) if waits else None

    def failed(self, email: str, address: str) -> None:
        """Count one failed sign-in."""
        now = self.clock()
        with self._lock:
            for key in ((email.strip().lower(), address), ("*", address)):
                self._failures.setdefault(key, deque()).append(now)
                if len(self._failures) > 100_000:  # bound memory under a spray of addresses
                    self._failures.pop(next(iter(self._failures)))

    def succeeded(self, email: str, address: str) -> None:
        """Forget the failures of ``email`` from ``address``."""
        with self._lock:
            self._failures.pop((email.strip().lower(), address), None)


def limiter_of(state: object) -> LoginLimiter:
    """The app's limiter (``app.state.login_limiter``), created on first use."""
    limiter = getattr(state, "login_limiter", None)
    if limiter is None:
        limiter = LoginLimiter()
        state.login_limiter = limiter  # type: ignore[attr-defined]
    return limiter
