"""PyAirbyte users can run the connector as a local executable: check, a full read into DuckDB, and an
incremental read that resumes from the state PyAirbyte saved, with nothing lost or stale."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import airbyte as ab
import pytest
from airbyte.caches import DuckDBCache

ROOT = Path(__file__).resolve().parents[2]
WINDOW_FIELD = {
    "pipeline_runs": "createdAt",
    "task_runs": "createdAt",
    "operations": "insertedAt",
}
CURSOR_FIELD = {
    "pipeline_runs": "updated_at",
    "task_runs": "updated_at",
    "operations": "inserted_at",
}
RETENTION = timedelta(days=7)
# Records this close to the retention edge may age out between the simulator's answer and our check.
EDGE_MARGIN = timedelta(hours=1)
# The connector reads up to the server's now minus a safety lag (60 s): newer records come next sync.
SAFETY_LAG = timedelta(minutes=2)


class Simulator:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.root = base_url.split("/api/")[0]

    def _call(self, method: str, path: str) -> object:
        request = urllib.request.Request(self.root + path, method=method)
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    def now(self) -> datetime:
        answer = self._call("GET", "/_sim/now")
        assert isinstance(answer, dict)
        return parse_time(answer["now"])

    def advance(self, ms: int) -> None:
        self._call("POST", f"/_sim/advance?ms={ms}")

    def truth(self, stream: str) -> list[dict[str, object]]:
        answer = self._call("GET", f"/_sim/truth/{stream}")
        assert isinstance(answer, list)
        return answer


def parse_time(value: object) -> datetime:
    assert isinstance(value, str), value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def cached_time(value: object) -> datetime:
    """DuckDB hands timestamps back naive, in UTC."""
    moment = value.to_pydatetime() if hasattr(value, "to_pydatetime") else value
    assert isinstance(moment, datetime), value
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@pytest.fixture()
def simulator() -> Iterator[Simulator]:
    command = [
        "node",
        str(ROOT / "simulator/lib/cli.js"),
        "--port",
        "0",
        "--clock",
        "manual",
        "--start",
        "2026-03-02T12:00:00Z",
        "--seed",
        "11",
        "--records",
        "3000",
        "--scenario",
        "calm",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    first_line = process.stdout.readline().strip()
    assert first_line.startswith("listening on "), first_line
    yield Simulator(first_line.removeprefix("listening on "))
    process.terminate()
    process.wait(timeout=10)


def assert_complete_and_current(sim: Simulator, cache: DuckDBCache) -> dict[str, int]:
    """Every record the API serves within retention is in the cache, in its latest version."""
    now = sim.now()
    counts: dict[str, int] = {}
    for stream, window_field in WINDOW_FIELD.items():
        rows = {row["id"]: row for row in cache[stream].to_pandas().to_dict("records")}
        counts[stream] = len(rows)
        expected = [
            record
            for record in sim.truth(stream)
            if now - RETENTION + EDGE_MARGIN
            < parse_time(record[window_field])
            < now - SAFETY_LAG
        ]
        assert expected, (
            f"the simulator served no {stream}: the test would prove nothing"
        )
        lost = [record["id"] for record in expected if record["id"] not in rows]
        assert not lost, (
            f"{stream}: {len(lost)} of {len(expected)} records lost, e.g. {lost[:3]}"
        )
        api_cursor = "updatedAt" if stream != "operations" else "insertedAt"
        stale = [
            record["id"]
            for record in expected
            if parse_time(record[api_cursor])
            != cached_time(rows[record["id"]][CURSOR_FIELD[stream]])
        ]
        assert not stale, f"{stream}: {len(stale)} stale records, e.g. {stale[:3]}"
    return counts


def test_pyairbyte_reads_everything_then_resumes_incrementally(
    simulator: Simulator, tmp_path: Path
) -> None:
    source = ab.get_source(
        "source-orchestra",
        local_executable=ROOT / "bin/main",
        config={
            "api_key": "simulator-key",
            "api_url": simulator.base_url,
            # The simulator has no rate limit; the default budget paces for the real API.
            "requests_per_minute": 6000,
            # Superseded attempts too, so every task run of the ground truth is expected.
            "include_superseded": True,
        },
        install_if_missing=False,
    )
    source.check()
    source.select_all_streams()
    cache = DuckDBCache(db_path=tmp_path / "orchestra.duckdb")

    first = source.read(cache=cache)
    first_counts = assert_complete_and_current(simulator, cache)

    simulator.advance(2 * 60 * 60 * 1000)
    second = source.read(cache=cache)
    second_counts = assert_complete_and_current(simulator, cache)
    assert second_counts["pipeline_runs"] > first_counts["pipeline_runs"], (
        first_counts,
        second_counts,
    )
    # The second read resumed from state: it fetched far fewer records than the first.
    assert second.processed_records < first.processed_records, (
        second.processed_records,
        first.processed_records,
    )
