"""One load: the engine's windows MERGEd into the tables, state checkpointed, history recorded.

Plain Python over a Snowpark-style session and an OrchestraClient, so it runs the same in a stored
procedure and in tests (fakesnow + the simulator).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from .client import OrchestraClient
from .engine import Batch, EngineOptions, StateUpdate, StreamEngine
from .errors import OrchestraError, redact
from .normalize import iso_z
from .schema import STREAMS
from .settings import Settings
from .store import Store

ALL_STREAMS = tuple(STREAMS)


def probe(client: OrchestraClient, stream: str = "pipeline_runs") -> dict[str, Any]:
    """The cheapest real request (one record of the last hour): checks key, network and approval,
    and sets the clock from Orchestra's Date header before any window is planned."""
    now = client.clock.now()
    body = client.get_page(
        STREAMS[stream]["path"],
        {"page": 1, "page_size": 1, "time_from": iso_z(now - timedelta(hours=1)), "time_to": iso_z(now)},
        "connection check",
    )
    return {"ok": True, "server_time": iso_z(client.clock.now()), "records_last_hour": body["total"]}


def load(
    store: Store,
    client: OrchestraClient,
    settings: Settings,
    streams: tuple[str, ...] | list[str],
    procedure: str,
    log: Callable[[str], None] = lambda _m: None,
) -> dict[str, Any]:
    """Loads the streams one after the other and returns the summary. A stream that fails is
    recorded as FAILED and the others still load; then the call raises with every failure."""
    run_id = str(uuid.uuid4())
    summary: dict[str, Any] = {"run_id": run_id, "procedure": procedure, "streams": {}, "warnings": []}
    failures: list[str] = []
    probed = False
    for name in streams:
        store.history_start(run_id, name, procedure)
        requests_before = client.counters.requests
        result: dict[str, Any] = {"rows_merged": 0, "records_read": 0, "windows": 0, "warnings": []}
        try:
            if not probed:
                probe(client, name)
                probed = True
            result.update(_load_stream(store, client, settings, name, log, result))
            status, error = "SUCCEEDED", None
        except OrchestraError as exc:
            status, error = "FAILED", redact(str(exc), client.options.api_key)
            failures.append(f"{name}: {error}")
        except Exception as exc:  # noqa: BLE001 - recorded, then re-raised below with context
            status = "FAILED"
            error = redact(f"{type(exc).__name__}: {exc}", client.options.api_key)
            failures.append(f"{name}: unexpected error {error}")
        result["requests"] = client.counters.requests - requests_before
        result["status"] = status
        if error:
            result["error"] = error
        store.history_end(run_id, name, status, result, error)
        summary["streams"][name] = result
        summary["warnings"].extend(result["warnings"])
    summary["requests"] = client.counters.requests
    summary["retries"] = client.counters.retries
    summary["rows_merged"] = sum(s["rows_merged"] for s in summary["streams"].values())
    summary["sql_statements"] = store.statements
    if failures:
        loaded = [n for n, s in summary["streams"].items() if s["status"] == "SUCCEEDED"]
        done = f" Loaded: {', '.join(loaded)}." if loaded else ""
        raise OrchestraError(
            f"{procedure} failed for {len(failures)} of {len(streams)} streams: " + " | ".join(failures)
            + f"{done} Details: SELECT * FROM public.ingestion_history WHERE run_id = '{run_id}'.",
            "config" if any("(401)" in f or "(403)" in f for f in failures) else "system",
        )
    summary["status"] = "SUCCEEDED"
    return summary


def _load_stream(
    store: Store,
    client: OrchestraClient,
    settings: Settings,
    name: str,
    log: Callable[[str], None],
    result: dict[str, Any],
) -> dict[str, Any]:
    spec = STREAMS[name]
    engine = StreamEngine(
        EngineOptions(
            stream=spec,
            client=client,
            state=store.read_state(name),
            start_date=settings.start_date,
            lookback_window=settings.lookback_window,
            window=settings.window,
            page_size=settings.page_size,
            filters=settings.filters(spec),
            # A retried task's earlier attempt is hidden by default; a run we follow must still be
            # found by id once it is superseded, or its row would stay in an open status forever.
            refetch_params={"include_superseded": "true"} if "include_superseded" in spec["filters"] else {},
            log=log,
        )
    )
    merged = 0
    warnings: list[str] = result["warnings"]
    state: dict[str, Any] | None = None
    for event in engine.run():
        if isinstance(event, Batch):
            if any(event.pages):
                merged += store.merge(name, event.pages, warnings)
        elif isinstance(event, StateUpdate):
            state = event.state
            store.save_state(name, state)
    warnings.extend(w for w in engine.stats.warnings if w not in warnings)
    return {
        "rows_merged": merged,
        "records_read": engine.stats.records_read,
        "windows": engine.stats.windows,
        "refetched": engine.stats.refetched,
        "cursor": state["cursor"] if state else None,
        "open_ids": len(state["open_ids"]) if state else 0,
    }
