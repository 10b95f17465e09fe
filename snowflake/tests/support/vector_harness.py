"""Runs the shared algorithm vectors (test/vectors/README.md) against the Snowflake app's engine:
a scripted HTTP server on 127.0.0.1, the real OrchestraClient and ServerClock, and StreamEngine.
test/helpers/vector-harness.ts does the same for the Airbyte source's engine."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from orchestra_app.client import ClientOptions, OrchestraClient
from orchestra_app.clock import ServerClock
from orchestra_app.engine import Batch, EngineOptions, StateUpdate, StreamEngine
from orchestra_app.errors import OrchestraError
from orchestra_app.normalize import iso_z, parse_instant
from orchestra_app.schema import STREAMS

VECTOR_DIR = Path(__file__).resolve().parents[3] / "test" / "vectors"
API_KEY = "vector-secret-key-3f9c2d71"
DEFAULT_AT = "2026-03-10T11:30:00.000Z"
DEFAULT_STATUS = "SUCCEEDED"
_RANGE = re.compile(r"^(.*)\{(\d+)\.\.(\d+)\}(.*)$")


def load_vectors(directory: Path = VECTOR_DIR) -> list[dict[str, Any]]:
    """Every case of every vector file, defaults applied (`config` and `expect` merged key by key)."""
    cases = []
    for path in sorted(directory.glob("*.json")):
        doc = json.loads(path.read_text())
        defaults = doc.get("defaults", {})
        for raw in doc["cases"]:
            case = {"script": [], **defaults, **raw, "file": path.name}
            for key in ("config", "expect"):
                case[key] = {**defaults.get(key, {}), **raw.get(key, {})}
            cases.append(case)
    return cases


def expand(text: str) -> list[str]:
    """`r{01..03}` -> r01, r02, r03 (zero-padded like bash when the bound is); other text as is."""
    m = _RANGE.match(text)
    if not m:
        return [text]
    head, lo, hi, tail = m.groups()
    width = len(lo) if lo.startswith("0") else 0
    return [f"{head}{str(i).zfill(width)}{tail}" for i in range(int(lo), int(hi) + 1)]


def ids(values: list[str]) -> list[str]:
    return [i for v in values for i in expand(v)]


def canonical_instant(value: Any) -> str:
    moment = parse_instant(value)
    return iso_z(moment) if moment is not None else str(value)


def parse_records(specs: list[str]) -> list[tuple[str, str, str]]:
    """`"ID [AT] [STATUS]"` with defaults, as (id, at, status); ranges in the id expand."""
    out = []
    for spec in specs:
        for line in expand(spec):
            rid, *rest = line.split()
            at, status = DEFAULT_AT, DEFAULT_STATUS
            for token in rest:
                if re.match(r"^\d{4}-", token):
                    at = token
                else:
                    status = token
            out.append((rid, canonical_instant(at), status))
    return out


def record_text(r: tuple[str, str, str]) -> str:
    return " ".join(r)


def as_sent(value: Any) -> str:
    """A parameter's expected value as the client sends it: lists joined by commas."""
    return ",".join(ids(value)) if isinstance(value, list) else str(value)


def _camel(name: str) -> str:
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name)


@dataclass
class SeenRequest:
    path: str
    query: dict[str, str]
    authorised: bool


class ScriptedApi:
    """The scripted API: the first matching rule answers; unmatched requests get an empty page."""

    def __init__(self) -> None:
        self.requests: list[SeenRequest] = []
        self._rules: list[dict[str, Any]] = []
        self._used: list[int] = []
        self._date = ""
        self._fields = ("updatedAt", "runStatus")
        self._parsed: dict[int, list[tuple[str, str, str]]] = {}
        self._lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                api._answer(self)

            def date_time_string(self, timestamp: float | None = None) -> str:
                return api._date  # send_response() sends this as the Date header: the server's time

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/api"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def use(self, case: dict[str, Any]) -> None:
        with self._lock:
            self._rules = case["script"]
            self._used = [0] * len(self._rules)
            self.requests = []
            self._date = format_datetime(_instant(case["server_time"]), usegmt=True)
            stream = STREAMS[case["config"]["stream"]]
            self._fields = (_camel(stream["cursor_field"]), _camel(stream["status_field"]))

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        url = urlsplit(handler.path)
        path = url.path.removeprefix("/api")
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        with self._lock:
            self.requests.append(
                SeenRequest(path, query, handler.headers.get("Authorization") == f"Bearer {API_KEY}")
            )
            reply = self._pick(path, query)
            body = None if "status" in reply or "raw" in reply else self._page(reply, query)
        if reply.get("delay_ms"):
            time.sleep(reply["delay_ms"] / 1000)
        status = reply.get("status", 200)
        if "raw" in reply:
            payload = reply["raw"].encode()
        elif "status" in reply:
            payload = b"" if reply.get("body") is None else json.dumps(reply["body"]).encode()
        else:
            payload = json.dumps(body).encode()
        try:
            handler.send_response(status)
            headers = {"Content-Type": "application/json", **reply.get("headers", {})}
            headers["Content-Length"] = str(len(payload))
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client timed out and went away: that was the point of the delay

    def _pick(self, path: str, query: dict[str, str]) -> dict[str, Any]:
        for i, rule in enumerate(self._rules):
            if not _matches(rule.get("when", {}), path, query):
                continue
            if "reply" in rule:
                return rule["reply"]
            replies = rule["replies"]
            reply = replies[min(self._used[i], len(replies) - 1)]
            self._used[i] += 1
            return reply
        return {"total": 0, "results": []}

    def _page(self, reply: dict[str, Any], query: dict[str, str]) -> dict[str, Any]:
        page = int(query.get("page", 1))
        asked = int(query.get("page_size", 100))
        size = min(reply["page_size"], asked) if "page_size" in reply else asked
        if "dataset" in reply:
            key = id(reply)
            if key not in self._parsed:
                self._parsed[key] = parse_records(reply["dataset"])
            everything = self._parsed[key]
            records = everything[(page - 1) * size : page * size]
            total = reply.get("total", len(everything))
        else:
            records = parse_records(reply.get("results", []))
            total = reply.get("total", len(records))
        cursor_api, status_api = self._fields
        return {
            "page": page,
            "pageSize": size,
            "total": total,
            "results": [{"id": r, cursor_api: at, status_api: st} for r, at, st in records],
        }


def _matches(when: dict[str, Any], path: str, query: dict[str, str]) -> bool:
    for key, want in when.items():
        got = path if key == "path" else query.get(key)
        if want is None:
            if got is not None:
                return False
        elif got != as_sent(want):
            return False
    return True


def _instant(text: str) -> datetime:
    moment = parse_instant(text)
    assert moment is not None, f"not an instant: {text}"
    return moment


def _closed_port_url() -> str:
    """A local port nothing listens on (it was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/api"


@dataclass
class Outcome:
    requests: list[SeenRequest]
    records: list[str] = field(default_factory=list)
    states: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: dict[str, str] | None = None
    waits_s: list[float] = field(default_factory=list)
    text: str = ""


def run_case(case: dict[str, Any], api: ScriptedApi) -> Outcome:
    api.use(case)
    cfg = case["config"]
    stream = STREAMS[cfg["stream"]]
    # The clock saw the server's Date header at monotonic 0 (as after the connection check), then
    # `elapsed_ms` of local time passed before the sync plans.
    monotonic = [0.0]
    clock = ServerClock(local_now=lambda: datetime.now(UTC), monotonic=lambda: monotonic[0])
    clock.observe(format_datetime(_instant(case["server_time"]), usegmt=True))
    monotonic[0] = case.get("elapsed_ms", 0) / 1000
    waits: list[float] = []
    client = OrchestraClient(
        ClientOptions(
            api_key=API_KEY,
            api_url=_closed_port_url() if case.get("api") == "closed" else api.base_url,
            timeout_s=cfg.get("timeout_ms", 5000) / 1000,
            requests_per_minute=100000,
            retry_budget_s=600,
            max_attempts=cfg.get("max_attempts", 8),
            base_delay_s=1.0,
            sleep=waits.append,
            random=lambda: 0.5,
            clock=clock,
        )
    )
    lines: list[str] = []
    state = case.get("state")
    engine = StreamEngine(
        EngineOptions(
            stream=stream,
            client=client,
            state={"cursor": state["cursor"], "open_ids": ids(state["open_ids"])} if state else None,
            start_date=_instant(cfg["start_date"]) if cfg.get("start_date") else None,
            lookback_window=timedelta(hours=cfg["lookback_hours"]),
            window=timedelta(hours=cfg["window_hours"]),
            page_size=cfg["page_size"],
            filters=dict(cfg.get("filters", {})),
            refetch_params=dict(cfg.get("refetch_params", {})),
            log=lines.append,
        )
    )
    out = Outcome(requests=[])
    try:
        for event in engine.run():
            if isinstance(event, Batch):
                for page in event.pages:
                    for r in page:
                        at = canonical_instant(r.get(stream["cursor_field"]))
                        out.records.append(record_text((str(r["id"]), at, str(r.get(stream["status_field"])))))
            elif isinstance(event, StateUpdate):
                out.states.append({"cursor": event.state["cursor"], "open_ids": list(event.state["open_ids"])})
    except OrchestraError as exc:
        out.error = {"type": exc.failure_type, "message": str(exc)}
    finally:
        client.close()
    out.requests = list(api.requests)
    out.warnings = list(engine.stats.warnings)
    out.waits_s = waits
    out.text = "\n".join([*lines, *out.warnings, out.error["message"] if out.error else ""])
    return out


def project(case: dict[str, Any], o: Outcome) -> dict[str, Any]:
    """The outcome projected onto what the case expects, to compare with one equality."""
    e = case["expect"]
    want_warnings = e["warnings"]
    want_error = e["error"] or {}
    want_waits = e.get("waits_s", [])
    out: dict[str, Any] = {
        "records": o.records,
        "states": o.states,
        "warnings": [
            want_warnings[i] if i < len(want_warnings) and want_warnings[i] in w else w
            for i, w in enumerate(o.warnings)
        ],
        "error": None
        if o.error is None
        else {
            "type": o.error["type"],
            "message": [m if m in o.error["message"] else f"<not in> {o.error['message']}"
                        for m in want_error.get("message", [])],
        },
        "waits_s": [
            want_waits[i]
            if i < len(want_waits) and want_waits[i][0] - 1e-9 <= w <= want_waits[i][1] + 1e-9
            else [w, w]
            for i, w in enumerate(o.waits_s)
        ],
        "authorised": all(r.authorised for r in o.requests),
        "key_leaked": API_KEY in o.text,
    }
    if "requests" in e:
        projected = []
        for i, r in enumerate(o.requests):
            want = e["requests"][i] if i < len(e["requests"]) else {}
            projected.append({k: r.path if k == "path" else r.query.get(k) for k in want})
        out["requests"] = projected
    else:
        out["request_count"] = len(o.requests)
    return out


def expected(case: dict[str, Any]) -> dict[str, Any]:
    """The case's expectations in the same shape as `project`."""
    e = case["expect"]
    out: dict[str, Any] = {
        "records": [record_text(r) for r in parse_records(e["records"])],
        "states": [{"cursor": s["cursor"], "open_ids": ids(s["open_ids"])} for s in e["states"]],
        "warnings": e["warnings"],
        "error": e["error"],
        "waits_s": e.get("waits_s", []),
        "authorised": True,
        "key_leaked": False,
    }
    if "requests" in e:
        out["requests"] = [{k: None if v is None else as_sent(v) for k, v in r.items()} for r in e["requests"]]
    else:
        out["request_count"] = e["request_count"]
    return out
