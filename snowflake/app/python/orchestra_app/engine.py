"""The incremental algorithm of DESIGN.md, the same as the Airbyte source's engine.ts.

Windows of at most `window` from `cursor - lookback` to `now - safety lag`; every page of each
window is read until one pass is consistent (stable totals, no short pages, every reported record
seen), otherwise the window is read again and then split in halves. After each completed window
the engine yields the window's pages (the loader MERGEs them in one statement) and the new state.
At the end, runs last seen unfinished that no window returned are re-fetched by id.
State: {"cursor": ISO UTC time up to which every window was read completely, "open_ids": [...]}.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .client import OrchestraClient
from .errors import OrchestraError
from .normalize import iso_z, normalize, parse_instant
from .windows import Window, plan_sync, retention_start, split_window, windows

PASSES_BEFORE_SPLIT = 2
MIN_SPLIT = timedelta(seconds=1)
MAX_SPLIT_DEPTH = 24
REFETCH_CHUNK = 50

Page = list[dict[str, Any]]


@dataclass
class EngineOptions:
    stream: dict[str, Any]  # one entry of schema.STREAMS
    client: OrchestraClient
    state: dict[str, Any] | None = None
    start_date: datetime | None = None
    lookback: timedelta = timedelta(hours=3)
    window: timedelta = timedelta(hours=24)
    page_size: int = 100
    filters: dict[str, Any] = field(default_factory=dict)
    refetch_params: dict[str, Any] = field(default_factory=dict)
    log: Callable[[str], None] = lambda _msg: None


@dataclass
class Batch:
    """Normalised pages to MERGE, and what they came from."""

    pages: list[Page]
    label: str


@dataclass
class StateUpdate:
    state: dict[str, Any]


@dataclass
class Stats:
    windows: int = 0
    records_read: int = 0
    refetched: int = 0
    warnings: list[str] = field(default_factory=list)


class StreamEngine:
    def __init__(self, o: EngineOptions) -> None:
        self.o = o
        s = o.stream
        self.properties: tuple[str, ...] = tuple(c[0] for c in s["columns"])
        self.open_statuses = set(s["open_statuses"])
        saved = o.state or {}
        ids = [i for i in saved.get("open_ids") or [] if isinstance(i, str)]
        self.open: set[str] = set(ids)
        self.to_refetch: set[str] = set(ids)
        self.cursor: datetime | None = parse_instant(saved.get("cursor"))
        self.stats = Stats()

    def warn(self, message: str) -> None:
        self.stats.warnings.append(message)
        self.o.log("WARNING " + message)

    def state(self) -> dict[str, Any]:
        assert self.cursor is not None
        return {"cursor": iso_z(self.cursor), "open_ids": sorted(self.open)}

    def run(self) -> Iterator[Batch | StateUpdate]:
        name = self.o.stream["name"]
        now = self.o.client.clock.now()
        plan = plan_sync(now, self.cursor, self.o.start_date, self.o.lookback)
        if plan.hours_lost is not None:
            self.warn(
                f"{name}: the saved cursor {iso_z(self.cursor) if self.cursor else '?'} is older than the 7 days "
                f"of history the API keeps: {plan.hours_lost:.1f} hours of {name} (up to "
                f"{iso_z(plan.retention_start)}) are lost for good. Load at least daily "
                "(CALL core.enable_schedule('0 * * * *')) to avoid gaps."
            )
        if plan.cursor_in_future:
            self.warn(f"{name}: the saved cursor is ahead of Orchestra's clock ({iso_z(now)}); nothing to read yet")
        for window in windows(plan.start, plan.end, self.o.window):
            pages: list[Page] = []
            self._read_window(window, pages, {}, 0)
            self.stats.windows += 1
            yield Batch(pages, f"{name} {window.label()}")
            if self.cursor is None or window.end > self.cursor:
                self.cursor = window.end
            yield StateUpdate(self.state())
        if self.cursor is None:
            self.cursor = plan.start
        if self.to_refetch:
            pages = self._refetch_open()
            if pages:
                yield Batch(pages, f"{name} re-fetch of unfinished runs")
        yield StateUpdate(self.state())

    # -- windows ----------------------------------------------------------------------------

    def _read_window(self, window: Window, out: list[Page], seen: dict[str, str], depth: int) -> None:
        label = f"{self.o.stream['name']} {window.label()}"
        previous: tuple[set[str], int] | None = None
        for pass_no in range(1, PASSES_BEFORE_SPLIT + 1):
            params = {**self.o.filters, "time_from": iso_z(window.start), "time_to": iso_z(window.end)}
            ids: set[str] = set()
            totals, cut_short = self._read_pages(params, label, out, seen, ids)
            total = totals[-1] if totals else 0
            stable = all(t == totals[0] for t in totals)
            if not cut_short and stable and len(ids) >= total:
                return
            if previous and previous == (ids, total) and stable and len(ids) < total:
                if window.end - window.start <= MIN_SPLIT:
                    self.warn(f"{label}: the API reports {total} records but consistently serves {len(ids)}")
                    return
            self.o.log(f"{label}: pass {pass_no} was not consistent (totals {totals}, {len(ids)} distinct)")
            previous = (ids, total)
        if window.end - window.start <= MIN_SPLIT or depth >= MAX_SPLIT_DEPTH:
            raise OrchestraError(
                f"{label}: could not read a consistent copy of this window (pages kept shifting while data "
                "changed). Run the load again; it resumes from the last completed window."
            )
        for half in split_window(window):
            self._read_window(half, out, seen, depth + 1)

    def _read_pages(
        self,
        params: dict[str, Any],
        label: str,
        out: list[Page],
        seen: dict[str, str] | None,
        ids: set[str],
        only: set[str] | None = None,
    ) -> tuple[list[int], bool]:
        """Every page of one window: stops at a short or empty page or once page * size >= total.
        An empty page while `total` says there is more is asked once more, then flagged."""
        path = self.o.stream["path"]
        page_size = self.o.page_size
        totals: list[int] = []
        cut_short = False
        n = 1
        while True:
            query = {**params, "page": n, "page_size": self.o.page_size}
            body = self.o.client.get_page(path, query, f"{label} page {n}")
            if n == 1 and 0 < body["pageSize"] < page_size:
                page_size = body["pageSize"]
            if not body["results"] and body["total"] - (n - 1) * page_size > 0:
                self.o.log(f"{label}: page {n} came back empty although total is {body['total']}; asking again")
                body = self.o.client.get_page(path, query, f"{label} page {n}")
                if not body["results"] and body["total"] - (n - 1) * page_size > 0:
                    cut_short = True
            totals.append(body["total"])
            out.append(self._take(body["results"], seen, ids, only))
            remaining = body["total"] - n * page_size
            count = len(body["results"])
            if count == 0 or count < page_size:
                if remaining > 0 and count > 0:
                    cut_short = True
                return totals, cut_short
            if remaining <= 0:
                return totals, cut_short
            n += 1

    def _take(
        self, results: list[Any], seen: dict[str, str] | None, ids: set[str], only: set[str] | None
    ) -> Page:
        cursor_field = self.o.stream["cursor_field"]
        status_field = self.o.stream["status_field"]
        page: Page = []
        for raw in results:
            if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
                self.warn(f"{self.o.stream['name']}: skipped a record without a string id")
                continue
            if only is not None and raw["id"] not in only:
                continue  # an API that ignores the id filter must not flood the table
            record = normalize(raw, self.properties)
            rid = record["id"]
            ids.add(rid)
            page.append(record)
            self.stats.records_read += 1
            version = str(record.get(cursor_field))
            if seen is not None:
                before = seen.get(rid)
                if before is not None and _older(version, before):
                    continue  # a stale copy must not reopen or close a run
                seen[rid] = version
            self._track(rid, record.get(status_field))
        return page

    def _track(self, rid: str, status: Any) -> None:
        self.to_refetch.discard(rid)
        if isinstance(status, str) and status in self.open_statuses:
            self.open.add(rid)
        else:
            self.open.discard(rid)

    # -- unfinished runs --------------------------------------------------------------------

    def _refetch_open(self) -> list[Page]:
        s = self.o.stream
        id_filter = s["id_filter"]
        if not id_filter:
            self.to_refetch.clear()
            return []
        now = self.o.client.clock.now()
        wanted = sorted(self.to_refetch)
        self.o.log(f"{s['name']}: re-fetching {len(wanted)} runs last seen unfinished")
        pages: list[Page] = []
        for i in range(0, len(wanted), REFETCH_CHUNK):
            chunk = wanted[i : i + REFETCH_CHUNK]
            params = {
                **self.o.filters,
                **self.o.refetch_params,
                id_filter: ",".join(chunk),
                "time_from": iso_z(retention_start(now)),
                "time_to": iso_z(now),
            }
            returned: set[str] = set()
            collected: list[Page] = []
            self._read_pages(params, f"{s['name']} re-fetch", collected, None, returned, set(chunk))
            self.stats.refetched += sum(len(p) for p in collected)
            pages.extend(collected)
            for rid in chunk:
                if rid not in returned:
                    # Not served any more (aged out of retention or filtered out): nothing to follow.
                    self.open.discard(rid)
                    self.to_refetch.discard(rid)
        return pages


def _older(version: str, than: str) -> bool:
    a, b = parse_instant(version), parse_instant(than)
    return a is not None and b is not None and a < b
