""""Now" as the Orchestra server sees it (see docs/sync-algorithm.md, "The clock").

The API filters windows by server time, so a warehouse clock that is off would skip or re-read
data. The `Date` header of the latest response, advanced by local monotonic time since it was
received, is the server's now; before any response, the local clock stands in.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime


class ServerClock:
    def __init__(
        self,
        local_now: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._local_now = local_now
        self._monotonic = monotonic
        self._server: datetime | None = None
        self._observed_at = 0.0

    @property
    def synced(self) -> bool:
        return self._server is not None

    def observe(self, date_header: str | None) -> None:
        """Records a response's `Date` header; absent or unparsable headers are ignored."""
        if not date_header:
            return
        try:
            parsed = parsedate_to_datetime(date_header)
        except (TypeError, ValueError, IndexError):
            return
        if parsed is None:
            return
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        self._server = parsed.astimezone(UTC)
        self._observed_at = self._monotonic()

    def now(self) -> datetime:
        if self._server is None:
            return self._local_now().astimezone(UTC)
        return self._server + timedelta(seconds=self._monotonic() - self._observed_at)
