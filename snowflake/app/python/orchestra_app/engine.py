"""The incremental algorithm of docs/sync-algorithm.md, the same as the Airbyte source's engine.ts.

Windows of at most `window` from `cursor - lookback` to `now - safety lag`; every page of each
window is read until one pass is consistent (stable totals, no short pages, every reported record
seen), otherwise the window is read again and then split in halves. After each completed window
the engine yields the window's pages (the loader MERGEs them in one statement) and the new state.
At the end, runs last seen unfinished that no window returned are re-fetched by id.
State: {"cursor": ISO UTC time up to which every window was read completely, "open_ids": [...]}.
Both engines pass the shared vectors in test/vectors/ (snowflake/tests/test_vectors.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .client import OrchestraClient
from .errors import OrchestraError
from .normalize import iso_z, normalize, parse_instant
from .slices import Slice, plan_sync, retention_start, slices, split_slice

PASSES_BEFORE_SPLIT = 2
# A window is not split below this: equal timestamps cannot be separated by time anyway.
MIN_SPLIT = timedelta(seconds=1)
MAX_SPLIT_DEPTH = 24
# Ids per re-fetch request: well inside a page and a URL.
REFETCH_CHUNK = 50
# Windows with more records are split before reading, bounding the per-window memory of versions.
MAX_WINDOW_RECORDS = 20_000

Page = list[dict[str, Any]]


@dataclass
class EngineOptions:
    stream: dict[str, Any]  # one entry of schema.STREAMS
    client: OrchestraClient
    state: dict[str, Any] | None = None
    start_date: datetime | None = None
    lookback_window: timedelta = timedelta(hours=3)
    window: timedelta = timedelta(hours=24)
    page_size: int = 100
    filters: dict[str, Any] = field(default_factory=dict)
    refetch_params: dict[str, Any] = field(default_factory=dict)
    log: Callable[[str], None] = lambda _msg: None


@dataclass
class Batch:
    """Normalized pages to MERGE, and what they came from."""

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


@dataclass
class PassReport:
    """What one pass over a window's pages observed, to judge whether it saw the whole window."""

    totals: list[int] = field(default_factory=list)
    records: int = 0  # records served, copies included
    ids: set[str] = field(default_factory=set)
    cut_short: bool = False  # a page came back empty or short while `total` said there was more
    oversized: bool = False  # stopped at the first page: the window is read as two halves instead

    @property
    def total(self) -> int:
        return self.totals[-1] if self.totals else 0

    @property
    def stable(self) -> bool:
        return all(t == self.totals[0] for t in self.totals)

    @property
    def repeated(self) -> bool:
        return self.records > len(self.ids)


# What the engine remembers of a record within one window: (instant, "cursor|status").
Versions = dict[str, tuple[datetime | None, str]]


class StreamEngine:
    def __init__(self, o: EngineOptions) -> None:
        self.o = o
        s = o.stream
        self.properties: tuple[str, ...] = tuple(c[0] for c in s["columns"])
        self.open_statuses = set(s["open_statuses"])
        saved = o.state or {}
        # Without an id filter a run cannot be followed: ids saved for such a stream are dropped.
        ids = [i for i in saved.get("open_ids") or [] if isinstance(i, str)] if s["id_filter"] else []
        self.open: set[str] = set(ids)
        self.to_refetch: set[str] = set(ids)
        self.cursor: datetime | None = parse_instant(saved.get("cursor"))
        self.stats = Stats()
        self._last_state: dict[str, Any] | None = None

    def warn(self, message: str) -> None:
        self.stats.warnings.append(message)
        self.o.log("WARNING " + message)

    def state(self) -> dict[str, Any]:
        assert self.cursor is not None
        return {"cursor": iso_z(self.cursor), "open_ids": sorted(self.open)}

    def _checkpoint(self) -> Iterator[StateUpdate]:
        """A state, unless it would repeat the previous one."""
        state = self.state()
        if state != self._last_state:
            self._last_state = state
            yield StateUpdate(state)

    def run(self) -> Iterator[Batch | StateUpdate]:
        name = self.o.stream["name"]
        now = _whole_second(self.o.client.clock.now())
        plan = plan_sync(now, self.cursor, self.o.start_date, self.o.lookback_window)
        if plan.hours_lost is not None:
            self.warn(
                f"{name}: the saved cursor {iso_z(self.cursor) if self.cursor else '?'} is older than the 7 days "
                f"of history the API keeps: {plan.hours_lost:.1f} hours of {name} (up to "
                f"{iso_z(plan.retention_start)}) are lost for good. Load at least daily "
                "(CALL core.enable_schedule('0 * * * *')) to avoid gaps."
            )
        if plan.start_clamped:
            self.o.log(
                f"{name}: start_date is older than the API's retention; reading from "
                f"{iso_z(plan.retention_start)}, the oldest data it serves"
            )
        if plan.cursor_in_future:
            self.warn(
                f"{name}: the saved cursor {iso_z(plan.start)} is ahead of the server's clock ({iso_z(now)}); "
                "nothing new to read until then"
            )
        for window in slices(plan.start, plan.end, self.o.window):
            pages: list[Page] = []
            try:
                self._read_window(window, pages, 0)
            except OrchestraError:
                # What was read goes out, as the Airbyte source emits records as it reads them;
                # the cursor does not move past the window.
                if any(pages):
                    yield Batch(pages, f"{name} {window.label()} (incomplete)")
                raise
            self.stats.windows += 1
            yield Batch(pages, f"{name} {window.label()}")
            if self.cursor is None or window.end > self.cursor:
                self.cursor = window.end
            yield from self._checkpoint()
        if self.cursor is None:
            self.cursor = plan.start
        if self.to_refetch:
            pages = self._refetch_open()
            if pages:
                yield Batch(pages, f"{name} re-fetch of unfinished runs")
        yield from self._checkpoint()

    # -- windows ----------------------------------------------------------------------------

    def _read_window(self, window: Slice, out: list[Page], depth: int) -> None:
        """Reads a window until one pass sees it whole; splits it when it is busy or its pages keep
        shifting. Each window read (a half too) starts a fresh memory of versions, so that memory
        stays bounded by the window's size; passes over the same window share it."""
        label = f"{self.o.stream['name']} {window.label()}"
        seen: Versions = {}
        previous: PassReport | None = None
        splittable = window.end - window.start > MIN_SPLIT and depth < MAX_SPLIT_DEPTH
        for pass_no in range(1, PASSES_BEFORE_SPLIT + 1):
            params = {**self.o.filters, "time_from": iso_z(window.start), "time_to": iso_z(window.end)}
            limit = MAX_WINDOW_RECORDS if pass_no == 1 and splittable else None
            report = self._read_pages(params, self.o.page_size, label, out, seen, limit=limit)
            if report.oversized:
                self.o.log(f"{label}: {report.total} records, reading it in two halves")
                break
            distinct = len(report.ids)
            if not report.cut_short and report.stable and distinct >= report.total:
                return
            # Two identical passes without a record served twice: the API serves fewer records
            # than its `total` says (e.g. it counts hidden rows). Splitting would not change that.
            if (
                previous is not None
                and report.stable
                and previous.stable
                and not report.repeated
                and not previous.repeated
                and report.total == previous.total
                and distinct < report.total
                and report.ids == previous.ids
            ):
                self.warn(
                    f"{label}: the API reports {report.total} records but consistently serves {distinct}; "
                    "continuing with what it serves"
                )
                return
            self.o.log(
                f"{label}: pass {pass_no} was not consistent (totals {sorted(set(report.totals))}, {distinct} distinct"
                f"{', a page came back short' if report.cut_short else ''}); "
                + ("reading the window again" if pass_no < PASSES_BEFORE_SPLIT else "splitting it")
            )
            previous = report
        else:
            if not splittable:
                # Data kept changing under the pages; a later load sees a calmer window.
                raise OrchestraError(
                    f"{label}: could not read a consistent copy of this window (pages kept shifting while "
                    "data changed). Run the load again; it resumes from the last completed window.",
                    "transient",
                )
        for half in split_slice(window):
            self._read_window(half, out, depth + 1)

    def _read_pages(
        self,
        params: dict[str, Any],
        page_size: int,
        label: str,
        out: list[Page],
        seen: Versions | None,
        only: set[str] | None = None,
        limit: int | None = None,
    ) -> PassReport:
        """Every page of one window: stops at a short or empty page or once page * size >= total.
        An empty page while `total` says there is more is asked once more, then flagged. With
        `limit`, a first page whose total is over it stops the pass unread (`oversized`)."""
        path = self.o.stream["path"]
        report = PassReport()
        asked = page_size  # every page of a pass is asked with the same page_size
        n = 1
        while True:
            query = {**params, "page": n, "page_size": asked}
            body = self.o.client.get_page(path, query, f"{label} page {n}")
            if n == 1:
                if limit is not None and body["total"] > limit:
                    report.totals.append(body["total"])
                    report.oversized = True
                    return report
                # The API may serve fewer rows per page than asked; judge pages by what it serves.
                if 0 < body["pageSize"] < page_size:
                    page_size = body["pageSize"]
            if not body["results"] and body["total"] - (n - 1) * page_size > 0:
                self.warn(
                    f"{label}: page {n} came back empty although the API reports {body['total']} records; "
                    "requesting it again (pages shift while data changes)"
                )
                body = self.o.client.get_page(path, query, f"{label} page {n}")
                if not body["results"] and body["total"] - (n - 1) * page_size > 0:
                    report.cut_short = True
            report.totals.append(body["total"])
            out.append(self._take(body["results"], seen, report, only))
            remaining = body["total"] - n * page_size
            count = len(body["results"])
            if count == 0 or count < page_size:
                if remaining > 0 and count > 0:
                    report.cut_short = True
                return report
            if remaining <= 0:
                return report
            n += 1

    def _take(self, results: list[Any], seen: Versions | None, report: PassReport, only: set[str] | None) -> Page:
        """The page's records to emit. Within a window a record already emitted in the same or a
        newer version (cursor value and status) is skipped; a newer version goes out again."""
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
            report.ids.add(rid)
            report.records += 1
            self.stats.records_read += 1
            status = record.get(status_field)
            if seen is not None:
                cursor = record.get(cursor_field)
                at = parse_instant(cursor)
                version = f"{cursor}|{status}"
                before = seen.get(rid)
                if before is not None and (_earlier(at, before[0]) or version == before[1]):
                    continue  # a copy already emitted, or a stale one that must not reopen a run
                seen[rid] = (at, version)
            page.append(record)
            self._track(rid, status)
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
        now = _whole_second(self.o.client.clock.now())
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
            # One page holds the whole chunk when the API allows it (it serves at most 100).
            page_size = max(self.o.page_size, min(100, len(chunk)))
            collected: list[Page] = []
            label = f"{s['name']} re-fetch of {len(chunk)} unfinished runs"
            report = self._read_pages(params, page_size, label, collected, None, set(chunk))
            self.stats.refetched += sum(len(p) for p in collected)
            pages.extend(collected)
            for rid in chunk:
                if rid not in report.ids:
                    # Not served any more (aged out of retention or filtered out): nothing to follow.
                    self.open.discard(rid)
                    self.to_refetch.discard(rid)
        return pages


def _whole_second(moment: datetime) -> datetime:
    """The server's Date header has whole seconds; planning on whole seconds keeps window bounds and
    cursors reproducible (the same sync against the same server time gives the same output)."""
    return moment.replace(microsecond=0)


def _earlier(a: datetime | None, b: datetime | None) -> bool:
    return a is not None and b is not None and a < b
