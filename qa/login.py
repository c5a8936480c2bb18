"""The chat page's login throttle: an ASGI middleware in front of Gradio's ``/login``.

Gradio checks a password without knowing who asks, and answers every attempt at once; a client that
sends 100 guesses in parallel gets 100 answers in a few seconds. Here every attempt, from any address,
waits its turn in one line, and a failed one keeps the line for ``PAUSE_S`` more: however many are sent
at once, at most one guess a second is checked. After ``lockout_after`` failures in a row from one
address, that address is refused for ``lockout_s`` seconds; after ``lockout_after`` × ``SPREAD`` failures
in a row from all addresses together (guesses spread over many addresses), everyone is. A refused attempt
still takes its turn, so a flood is as slow while locked out as before. A right login resets its
address's count and the overall one. The line holds at most ``MAX_WAITING`` attempts; more are turned
away at once (HTTP 429), so the owner's login is never queued behind an unbounded flood.

Behind a reverse proxy every client has the proxy's address: the overall limit still holds.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

PAUSE_S = 1.0        # a failed attempt holds the line this long: at most one guess a second overall
SPREAD = 5           # failures in a row, from all addresses, that lock everyone out: lockout_after × this
MAX_WAITING = 100    # attempts waiting their turn; more are turned away at once


@dataclass
class _Count:
    failures: int = 0
    until: float = 0.0   # refused before this time (time.monotonic())


@dataclass
class LoginThrottle:
    """Counts failed logins per address and overall, and says who is locked out and for how long."""

    lockout_after: int = 10
    lockout_s: float = 120.0
    clock: object = time.monotonic
    _by_address: dict[str, _Count] = field(default_factory=dict)
    _overall: _Count = field(default_factory=_Count)

    def locked_for(self, address: str) -> float:
        """Seconds until ``address`` may try again (0: it may now)."""
        now = self.clock()
        mine = self._by_address.get(address, _Count())
        return max(mine.until - now, self._overall.until - now, 0.0)

    def failed(self, address: str) -> None:
        now = self.clock()
        mine = self._by_address.setdefault(address, _Count())
        for count, limit in ((mine, self.lockout_after), (self._overall, self.lockout_after * SPREAD)):
            count.failures += 1
            if count.failures >= limit:
                count.failures, count.until = 0, now + self.lockout_s
        if len(self._by_address) > 10_000:  # addresses that stopped trying are forgotten
            self._by_address = {a: c for a, c in self._by_address.items() if c.until > now or a == address}

    def succeeded(self, address: str) -> None:
        self._by_address.pop(address, None)
        self._overall.failures = 0


class LoginLimiter:
    """ASGI middleware: POSTs to ``…/login`` pass one at a time through ``LoginThrottle``; the rest pass."""

    def __init__(self, app, lockout_after: int = 10, lockout_s: float = 120.0) -> None:
        self.app = app
        self.throttle = LoginThrottle(lockout_after, lockout_s)
        self._line: asyncio.Lock | None = None
        self._waiting = 0

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].rstrip("/").endswith("/login"):
            await self.app(scope, receive, send)
            return
        if self._waiting >= MAX_WAITING:
            await _refuse(send, "Zu viele Anmeldeversuche gleichzeitig; bitte später erneut versuchen.", 60)
            return
        self._line = self._line or asyncio.Lock()
        address = (scope.get("client") or ("?", 0))[0]
        self._waiting += 1
        try:
            async with self._line:
                wait = self.throttle.locked_for(address)
                if wait:
                    await asyncio.sleep(PAUSE_S)
                    await _refuse(send, "Zu viele fehlgeschlagene Anmeldungen; bitte in "
                                        f"{int(wait) + 1} Sekunden erneut versuchen.", int(wait) + 1)
                    return
                status, answer = await _answer_of(self.app, scope, receive)
                if status == 200:
                    self.throttle.succeeded(address)
                else:  # the pause comes before the answer: n guesses take n seconds, even the last
                    self.throttle.failed(address)
                    await asyncio.sleep(PAUSE_S)
                for message in answer:
                    await send(message)
        finally:
            self._waiting -= 1


async def _answer_of(app, scope, receive) -> tuple[int, list[dict]]:
    """Run ``app`` on the request; its status and the messages of its answer, not sent yet."""
    answer: list[dict] = []

    async def keep(message) -> None:
        answer.append(message)

    await app(scope, receive, keep)
    status = next((m["status"] for m in answer if m["type"] == "http.response.start"), 500)
    return status, answer


async def _refuse(send, message: str, retry_after: int) -> None:
    body = json.dumps({"detail": message}, ensure_ascii=False).encode("utf-8")
    await send({"type": "http.response.start", "status": 429,
                "headers": [(b"content-type", b"application/json; charset=utf-8"),
                            (b"retry-after", str(retry_after).encode()),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
