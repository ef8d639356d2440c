"""Failed logins are counted and, past a limit, refused with 429: passwords cannot be guessed at speed.

Every failed attempt (the login endpoints and HTTP basic authentication) is
recorded twice, under the identifier it named (user name or e-mail, so one
account cannot be attacked from many addresses) and under the client's
address (so one client cannot try many accounts). Either key reaching
``LOGIN_FAILURE_RATE`` (default ``10/5m``: ten failures in five minutes)
blocks further attempts for that key, without checking the password, until
the oldest failure leaves the window.

The counting is DRF's ``SimpleRateThrottle`` (its cache, clock, rate parsing
and client address, which honours ``NUM_PROXIES`` behind a proxy), except
that it records failures instead of requests. History lives in Django's default cache: the embedded
``LocMemCache`` is per process, so with several API processes each counts
on its own, and a cluster should configure a shared cache (``CACHES``).
Threads of one process share a lock, so concurrent failures are not lost.
"""

from __future__ import annotations

import hashlib
import re
import threading

from django.conf import settings
from rest_framework.authentication import BasicAuthentication
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.throttling import SimpleRateThrottle

_LOCK = threading.Lock()
_RATE_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])[a-z]*\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class LoginFailureThrottle(SimpleRateThrottle):
    """The failures recorded under one key (``kind`` is ``identifier`` or ``address``)."""

    def __init__(self, kind: str, value: str) -> None:
        self.rate = getattr(settings, "LOGIN_FAILURE_RATE", "10/5m")
        super().__init__()
        digest = hashlib.sha256(value.strip().lower().encode("utf-8", "replace")).hexdigest()
        self.key = f"throttle_login_failure_{kind}_{digest}"

    def parse_rate(self, rate: str | None) -> tuple[int | None, int | None]:
        """DRF's ``"10/m"``, plus a multiple of the unit: ``"10/5m"`` is ten per five minutes."""
        match = _RATE_RE.match(rate or "")
        if match is None:
            return super().parse_rate(rate)
        count, multiple, unit = match.groups()
        return int(count), int(multiple or 1) * _UNITS[unit]

    def _current(self) -> list[float]:
        self.now = self.timer()
        self.history = [t for t in self.cache.get(self.key, []) if t > self.now - self.duration]
        return self.history

    def wait_seconds(self) -> float | None:
        """Seconds until another attempt is allowed, or ``None`` when it is allowed now."""
        if self.num_requests is None or len(self._current()) < self.num_requests:
            return None
        # Newest first: the attempt is allowed again once the num_requests-th newest failure is out of the window.
        return max(0.0, self.history[self.num_requests - 1] + self.duration - self.now)

    def record(self) -> None:
        with _LOCK:
            self._current().insert(0, self.now)
            self.cache.set(self.key, self.history, self.duration)


def _throttles(request, identifier: str) -> list[LoginFailureThrottle]:
    address = LoginFailureThrottle("address", "").get_ident(request) or ""
    return [LoginFailureThrottle("identifier", identifier), LoginFailureThrottle("address", address)]


def login_blocked(request, identifier: str) -> float | None:
    """Seconds this login attempt must wait (too many recent failures), or ``None``."""
    waits = [throttle.wait_seconds() for throttle in _throttles(request, identifier)]
    blocked = [wait for wait in waits if wait is not None]
    return max(blocked) if blocked else None


def login_failed(request, identifier: str) -> None:
    for throttle in _throttles(request, identifier):
        throttle.record()


def blocked_message(wait: float) -> str:
    return f"Too many failed login attempts. Try again in {max(1, round(wait))} seconds."


class ThrottledBasicAuthentication(BasicAuthentication):
    """DRF's HTTP basic authentication, with failures counted and refused (429) past the limit."""

    def authenticate_credentials(self, userid: str, password: str, request=None):
        wait = login_blocked(request, userid) if request is not None else None
        if wait is not None:
            raise Throttled(wait=wait, detail=blocked_message(wait))
        try:
            return super().authenticate_credentials(userid, password, request)
        except AuthenticationFailed:
            if request is not None:
                login_failed(request, userid)
            raise
