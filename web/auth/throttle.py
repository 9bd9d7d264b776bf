"""Login throttling: failed sign-ins counted per (username, address) and per address.

Kept in memory, per process, on purpose: counting failures in the database would let
anyone without an account make the service write rows (and contend the audit chain) at
will. The cost is that each worker process counts on its own, so with N gunicorn workers an
attacker gets at most N times the limit before every worker refuses, and a restart forgets
the counts. With Argon2 making each guess slow, that bound is acceptable; put a shared
store behind the same interface if a deployment runs many workers.

A successful sign-in clears the (username, address) count. While a key is over its limit
every attempt is refused *before* the password is checked, whether the password is right
or not, and whether the username exists or not (no enumeration through the throttle).
"""

from __future__ import annotations

import threading
from collections import deque


class LoginThrottle:
    def __init__(self, attempts: int, address_attempts: int, window_seconds: float):
        self.attempts = attempts
        self.address_attempts = address_attempts
        self.window = window_seconds
        self._failures: dict[tuple, deque[float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _keys(username: str, address: str) -> tuple[tuple, tuple]:
        return ("user", username.strip().casefold(), address), ("address", address)

    def _recent(self, key: tuple, now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def retry_after(self, username: str, address: str, now: float) -> int:
        """Seconds until a sign-in may be tried again; 0 when it may be tried now."""
        user_key, address_key = self._keys(username, address)
        wait = 0.0
        with self._lock:
            for key, limit in ((user_key, self.attempts), (address_key, self.address_attempts)):
                times = self._recent(key, now)
                if len(times) >= limit:
                    wait = max(wait, times[-limit] + self.window - now)
        return max(1, int(wait) + 1) if wait > 0 else 0

    def failed(self, username: str, address: str, now: float) -> None:
        with self._lock:
            for key in self._keys(username, address):
                self._recent(key, now)
                self._failures.setdefault(key, deque()).append(now)
            if len(self._failures) > 100_000:  # a flood of distinct keys: forget the oldest
                for key in list(self._failures)[:50_000]:
                    del self._failures[key]

    def succeeded(self, username: str, address: str) -> None:
        user_key, _ = self._keys(username, address)
        with self._lock:
            self._failures.pop(user_key, None)
