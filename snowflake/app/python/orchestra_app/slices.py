"""The sync plan and its slices (time windows of the API filter; Airbyte's CDK calls the unit of work
between checkpoints a slice, and the look-back its lookback_window), the same as the Airbyte source's
slices.ts: docs/sync-algorithm.md."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from .normalize import iso_z

HOUR = timedelta(hours=1)
RETENTION = timedelta(days=7)
# Stay inside retention, so the oldest window does not shrink while it is read.
RETENTION_MARGIN = timedelta(minutes=10)
# Do not read the last minute: records may still be landing with timestamps in it.
SAFETY_LAG = timedelta(minutes=1)
# Consecutive windows overlap by 1 ms, so a record stamped exactly on a boundary is inside one of
# them whether the API's bounds are inclusive or exclusive. Duplicates are harmless; gaps are not.
OVERLAP = timedelta(milliseconds=1)
MAX_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class Slice:
    start: datetime
    end: datetime

    def label(self) -> str:
        return f"{iso_z(self.start)} -> {iso_z(self.end)}"


@dataclass(frozen=True)
class Plan:
    retention_start: datetime
    start: datetime
    end: datetime
    hours_lost: float | None = None
    start_clamped: bool = False
    cursor_in_future: bool = False


def retention_start(now: datetime) -> datetime:
    return now - RETENTION + RETENTION_MARGIN


def plan_sync(now: datetime, cursor: datetime | None, start_date: datetime | None, lookback: timedelta) -> Plan:
    oldest = retention_start(now)
    end = now - SAFETY_LAG
    if cursor is not None:
        if cursor >= end:
            return Plan(oldest, cursor, end, cursor_in_future=cursor > end)
        start = cursor - lookback
        hours_lost = (oldest - cursor) / HOUR if cursor < oldest else None
        return Plan(oldest, max(start, oldest), end, hours_lost=hours_lost)
    start = start_date or oldest
    clamped = False
    if start < oldest:
        clamped = start_date is not None
        start = oldest
    return Plan(oldest, start, end, start_clamped=clamped)


def slices(start: datetime, end: datetime, size: timedelta) -> Iterator[Slice]:
    """[start, end] in windows of at most `size`, each overlapping the previous by 1 ms."""
    size = min(size, MAX_WINDOW)
    while start < end:
        stop = min(start + size, end)
        yield Slice(start, stop)
        if stop >= end:
            return
        start = stop - OVERLAP


def split_slice(w: Slice) -> tuple[Slice, Slice]:
    mid = w.start + (w.end - w.start) / 2
    mid = mid.replace(microsecond=(mid.microsecond // 1000) * 1000)
    return Slice(w.start, mid), Slice(mid - OVERLAP, w.end)
