"""Scalar Python UDF handlers: core.get_<stream>() for each stream (core.get_pipeline_runs(), ...).

Scalar functions (not procedures), so the seed README's examples work as written:
`SELECT core.get_task_runs(2, 50);` and `FROM TABLE(FLATTEN(input => core.get_pipeline_runs():results))`.
Each returns one raw API page (the API's camelCase envelope). `per_page` is sent as `page_size`
(the API ignores `per_page`) and capped at 100; a time window is always sent (default: the 7 days
the API keeps). Errors raise; they are never returned as a success payload.
A UDF cannot read tables, so these use the default api_url and no account_id whatever the settings;
the load procedures honour both.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from .client import ClientOptions, OrchestraClient
from .errors import config_error
from .handlers import api_key
from .normalize import iso_z
from .schema import STREAMS
from .slices import MAX_WINDOW, retention_start

MAX_PAGE_SIZE = 100


def fetch_page(
    stream: str,
    page: Any = 1,
    per_page: Any = 100,
    time_from: datetime | None = None,
    time_to: datetime | None = None,
    options: ClientOptions | None = None,
) -> dict[str, Any]:
    if page is None or int(page) != page or int(page) < 1:
        raise config_error(f"page must be a whole number from 1 (got {page!r}).")
    if per_page is None or int(per_page) != per_page or int(per_page) < 1:
        raise config_error(f"per_page must be a whole number from 1 to {MAX_PAGE_SIZE} (got {per_page!r}).")
    if options is None:
        options = ClientOptions(api_key=api_key(), max_attempts=4, retry_budget_s=60.0)
    client = OrchestraClient(options)
    try:
        now = client.clock.now()
        end = _utc(time_to) if time_to is not None else now
        start = _utc(time_from) if time_from is not None else retention_start(end)
        if start >= end:
            raise config_error(f"time_from ({iso_z(start)}) must be before time_to ({iso_z(end)}).")
        if end - start > MAX_WINDOW:
            raise config_error(
                f"The API serves at most 7 days per request: {iso_z(start)} -> {iso_z(end)} is longer. "
                "Use several calls with consecutive windows."
            )
        params = {
            "page": int(page),
            "page_size": min(int(per_page), MAX_PAGE_SIZE),
            "time_from": iso_z(start),
            "time_to": iso_z(end),
        }
        return client.get_json(STREAMS[stream]["path"], params, f"page {int(page)}")
    finally:
        client.close()


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _stream_getter(stream: str) -> Callable[..., Any]:
    def get_stream(page: Any = 1, per_page: Any = 100, time_from: Any = None, time_to: Any = None) -> Any:
        return fetch_page(stream, page, per_page, time_from, time_to)

    get_stream.__name__ = get_stream.__qualname__ = f"get_{stream}"
    return get_stream


# One handler per stream of the registry, named as the setup script's core.get_<stream> functions
# name theirs (HANDLER 'orchestra_app.udfs.get_<stream>'; both generated from resources/streams.json).
for _stream in STREAMS:
    globals()[f"get_{_stream}"] = _stream_getter(_stream)
