"""Issue 12: every figure of every analytics view equals an independent computation in Python.

The history: 3 simulated days of three pipelines loaded by the app's loader (a first load of the
API's 7 days, then a load every 12 hours; one load fails part-way and the next resumes), tasks
retried, runs that last more than a day, runs still in progress at the end, SLA limits set by the
admin procedure. The oracle below reads the simulator's ground truth for the records in the tables
(after checking the tables hold exactly those versions) and follows docs/analytics.md's definitions
with plain Python: no SQL.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from support.analytics_history import SLAS, FileFake, opened, shared_history

SUCCESS = {"SUCCEEDED", "WARNING"}
RESULT = {"SUCCEEDED", "WARNING", "FAILED"}
TERMINAL = {"SUCCEEDED", "WARNING", "FAILED", "CANCELLED", "SKIPPED"}


def ts(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).astimezone(UTC)


def micros(a: datetime, b: datetime) -> int:
    return (b - a) // timedelta(microseconds=1)


def percentile(values: list[float], p: float) -> float | None:
    """PERCENTILE_CONT: linear interpolation between the closest ranks."""
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    rank = p * (len(values) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return values[low] + (values[high] - values[low]) * (rank - low)


def outcome(status: str) -> str:
    if status in SUCCESS:
        return "SUCCEEDED"
    return status if status in ("FAILED", "CANCELLED", "SKIPPED") else "IN_PROGRESS"


def ratio(a: int, b: int) -> float | None:
    return None if b == 0 else a / b


def same(actual: Any, expected: Any) -> bool:
    if isinstance(actual, Decimal):
        actual = float(actual)
    if isinstance(expected, float) or isinstance(actual, float):
        return (
            actual is not None and expected is not None and math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-9)
        )
    return actual == expected


def compare(name: str, rows: list[dict[str, Any]], expected: dict[Any, dict[str, Any]], key: tuple[str, ...]) -> None:
    """Every expected row is there with every column equal, and no other row."""
    got = {tuple(r[k.upper()] for k in key): r for r in rows}
    assert len(got) == len(rows), f"{name}: duplicate keys"
    assert set(got) == set(expected), (
        f"{name}: keys differ: missing {set(expected) - set(got)}, extra {set(got) - set(expected)}"
    )
    bad = [
        f"{name} {k} {col}: view {got[k][col.upper()]!r} != expected {value!r}"
        for k, want in expected.items()
        for col, value in want.items()
        if not same(got[k][col.upper()], value)
    ]
    assert not bad, f"{len(bad)} differences:\n" + "\n".join(bad[:20])


class Oracle:
    """The metrics of docs/analytics.md over the ground-truth records of the loaded ids."""

    def __init__(self, truth: dict[str, list[dict[str, Any]]], loaded: dict[str, set[str]]) -> None:
        self.runs = [r for r in truth["pipeline_runs"] if r["id"] in loaded["pipeline_runs"]]
        self.tasks = [t for t in truth["task_runs"] if t["id"] in loaded["task_runs"]]
        self.ops = [o for o in truth["operations"] if o["id"] in loaded["operations"]]
        self.version = {r["id"]: r["pipelineVersionNumber"] for r in self.runs}
        self.by_pipeline: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in self.runs:
            self.by_pipeline[r["pipelineId"]].append(r)
        self.name = {p: max(rs, key=lambda r: ts(r["createdAt"]))["pipelineName"] for p, rs in self.by_pipeline.items()}

    @staticmethod
    def day(r: dict[str, Any]) -> date:
        return ts(r["createdAt"]).date()

    @staticmethod
    def duration(r: dict[str, Any], status_key: str = "runStatus") -> float | None:
        if r[status_key] not in RESULT or not r["startedAt"] or not r["completedAt"]:
            return None
        return micros(ts(r["startedAt"]), ts(r["completedAt"])) / 1e6

    def daily(self) -> dict[Any, dict[str, Any]]:
        last = max(self.day(r) for r in self.runs)
        out = {}
        for p, rs in self.by_pipeline.items():
            first = min(self.day(r) for r in rs)
            for n in range((last - first).days + 1):
                d = first + timedelta(days=n)
                day_runs = [r for r in rs if self.day(r) == d]
                kinds = [outcome(r["runStatus"]) for r in day_runs]
                ok, failed = kinds.count("SUCCEEDED"), kinds.count("FAILED")
                durations = [x for x in (self.duration(r) for r in day_runs) if x is not None]
                out[(p, d)] = {
                    "pipeline_name": self.name[p],
                    "runs": len(day_runs),
                    "succeeded": ok,
                    "warnings": sum(r["runStatus"] == "WARNING" for r in day_runs),
                    "failed": failed,
                    "cancelled": kinds.count("CANCELLED"),
                    "skipped": kinds.count("SKIPPED"),
                    "in_progress": kinds.count("IN_PROGRESS"),
                    "success_rate": ratio(ok, ok + failed),
                    "p50_duration_seconds": percentile(durations, 0.5),
                    "p95_duration_seconds": percentile(durations, 0.95),
                    "max_duration_seconds": max(durations) if durations else None,
                }
        return out

    def recovery(self) -> dict[Any, dict[str, Any]]:
        out = {}
        for p, rs in self.by_pipeline.items():
            ended = sorted(
                (r for r in rs if outcome(r["runStatus"]) in ("SUCCEEDED", "FAILED") and r["completedAt"]),
                key=lambda r: (ts(r["completedAt"]), r["id"]),
            )
            for i, r in enumerate(ended):
                if r["runStatus"] != "FAILED":
                    continue
                nxt = next((s for s in ended[i + 1 :] if s["runStatus"] in SUCCESS), None)
                out[r["id"]] = {
                    "pipeline_id": p,
                    "pipeline_name": self.name[p],
                    "failed_at": ts(r["completedAt"]),
                    "recovered_by_run_id": nxt and nxt["id"],
                    "recovered_at": nxt and ts(nxt["completedAt"]),
                    "is_recovered": nxt is not None,
                    "minutes_to_recovery": nxt and micros(ts(r["completedAt"]), ts(nxt["completedAt"])) / 6e7,
                }
        return out

    def recovery_summary(self) -> dict[Any, dict[str, Any]]:
        per: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in self.recovery().values():
            per[row["pipeline_id"]].append(row)
        out = {}
        for p in self.by_pipeline:
            rows = per[p]
            done = [r["minutes_to_recovery"] for r in rows if r["is_recovered"]]
            open_ = [r["failed_at"] for r in rows if not r["is_recovered"]]
            out[(p,)] = {
                "pipeline_name": self.name[p],
                "failures": len(rows),
                "recovered": len(done),
                "unrecovered": len(open_),
                "mean_minutes_to_recovery": sum(done) / len(done) if done else None,
                "max_minutes_to_recovery": max(done) if done else None,
                "failing_since": min(open_) if open_ else None,
            }
        return out

    def freshness(self) -> dict[Any, dict[str, Any]]:
        out = {}
        for p, rs in self.by_pipeline.items():
            last = max(rs, key=lambda r: (ts(r["createdAt"]), r["id"]))
            ok = [r for r in rs if r["runStatus"] in SUCCESS and r["completedAt"]]
            best = max(ok, key=lambda r: (ts(r["completedAt"]), r["id"])) if ok else None
            since = ts(best["completedAt"]) if best else None
            failures = [r for r in rs if r["runStatus"] == "FAILED" and (since is None or ts(r["completedAt"]) > since)]
            out[(p,)] = {
                "pipeline_name": self.name[p],
                "last_run_id": last["id"],
                "last_run_status": last["runStatus"],
                "last_run_created_at": ts(last["createdAt"]),
                "last_success_run_id": best and best["id"],
                "last_success_at": since,
                "failures_since_success": len(failures),
            }
        return out

    def attempts(self) -> list[dict[str, Any]]:
        """Task runs with their attempt number, run version and final-attempt flag."""
        groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for t in self.tasks:
            groups[(t["pipelineRunId"], t["taskId"])].append(t)
        final = set()
        for group in groups.values():
            top = max(group, key=lambda t: (t["numberOfAttempts"] or 1, ts(t["createdAt"]), t["id"]))
            final.add(top["id"])
        return [
            {
                **t,
                "attempt": t["numberOfAttempts"] or 1,
                "final": t["id"] in final,
                "version": self.version.get(t["pipelineRunId"]),
            }
            for t in self.tasks
        ]

    def flaky(self) -> dict[Any, dict[str, Any]]:
        seq: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for a in self.attempts():
            if a["status"] in RESULT:
                seq[(a["pipelineId"], a["taskId"])].append(a)
        out = {}
        for (p, task), items in seq.items():
            items.sort(key=lambda a: (ts(a["createdAt"]), a["attempt"], a["id"]))
            for prev, cur in zip(items, items[1:], strict=False):
                if prev["status"] == "FAILED" and cur["status"] in SUCCESS and prev["version"] == cur["version"]:
                    out[(prev["id"], cur["id"])] = {
                        "pipeline_id": p,
                        "task_id": task,
                        "failed_pipeline_run_id": prev["pipelineRunId"],
                        "failed_at": ts(prev["completedAt"]),
                        "succeeded_pipeline_run_id": cur["pipelineRunId"],
                        "succeeded_at": ts(cur["completedAt"]),
                        "is_retry_in_same_run": prev["pipelineRunId"] == cur["pipelineRunId"],
                        "pipeline_version_number": cur["version"],
                    }
        return out

    def task_health(self) -> dict[Any, dict[str, Any]]:
        attempts = self.attempts()
        by_task: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for a in attempts:
            by_task[(a["pipelineId"], a["taskId"])].append(a)
        task_of = {a["id"]: (a["pipelineId"], a["taskId"]) for a in attempts}
        ops: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for o in self.ops:
            if o["taskRunId"] in task_of:
                ops[task_of[o["taskRunId"]]].append(o)
        flaky: dict[tuple[str, str], int] = defaultdict(int)
        for f in self.flaky().values():
            flaky[(f["pipeline_id"], f["task_id"])] += 1
        out = {}
        for key, items in by_task.items():
            finals = [a for a in items if a["final"]]
            latest = max(finals, key=lambda a: ts(a["createdAt"]))
            ok = sum(a["status"] in SUCCESS for a in finals)
            failed = sum(a["status"] == "FAILED" for a in finals)
            durations = [x for x in (self.duration(a, "status") for a in finals) if x is not None]
            rows = [o["rowsAffected"] for o in ops[key] if o["rowsAffected"] is not None]
            out[key] = {
                "pipeline_name": self.name.get(key[0]),
                "task_name": latest["taskName"],
                "integration": latest["integration"],
                "task_runs": len(finals),
                "attempts": len(items),
                "succeeded": ok,
                "failed": failed,
                "cancelled": sum(a["status"] == "CANCELLED" for a in finals),
                "skipped": sum(a["status"] == "SKIPPED" for a in finals),
                "in_progress": sum(a["status"] not in TERMINAL for a in finals),
                "failure_rate": ratio(failed, ok + failed),
                "retried": sum(a["attempt"] > 1 for a in finals),
                "retried_then_succeeded": sum(a["attempt"] > 1 and a["status"] in SUCCESS for a in finals),
                "flaky_events": flaky[key],
                "is_flaky": flaky[key] > 0,
                "p50_duration_seconds": percentile(durations, 0.5),
                "p95_duration_seconds": percentile(durations, 0.95),
                "max_duration_seconds": max(durations) if durations else None,
                "operations": len(ops[key]),
                "rows_affected": float(sum(rows)) if rows else None,
            }
        return out

    def operation_stats(self) -> dict[Any, dict[str, Any]]:
        groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
        for o in self.ops:
            groups[(o["integration"], o["operationType"], o["operationName"])].append(o)
        out = {}
        for key, items in groups.items():
            durations = [o["operationDuration"] for o in items if o["operationDuration"] is not None]
            rows = [o["rowsAffected"] for o in items if o["rowsAffected"] is not None]
            out[key] = {
                "operations": len(items),
                "failed": sum(o["operationStatus"] == "FAILED" for o in items),
                "p50_duration_seconds": percentile(durations, 0.5),
                "p95_duration_seconds": percentile(durations, 0.95),
                "max_duration_seconds": max(durations) if durations else None,
                "rows_affected": float(sum(rows)) if rows else None,
                "last_inserted_at": max(ts(o["insertedAt"]) for o in items),
            }
        return out

    def sla_breaches(self, slas: tuple[tuple[Any, ...], ...], now: datetime) -> dict[Any, dict[str, Any]]:
        """`now` only decides breaches of runs still in progress (months old here, so any `now`
        during the test gives the same set)."""
        ids = {name: p for p, name in self.name.items()}
        out = {}
        for name, max_minutes, finish, zone in slas:
            p = ids[name]
            tz = ZoneInfo(zone or "UTC")
            for r in self.by_pipeline[p]:
                kind = outcome(r["runStatus"])
                started, completed = ts(r["startedAt"]), ts(r["completedAt"])
                if max_minutes is not None:
                    minutes = None
                    if kind == "IN_PROGRESS" and started:
                        minutes = micros(started, now) / 6e7
                    elif self.duration(r) is not None:
                        minutes = self.duration(r) / 60
                    if minutes is not None and minutes > max_minutes:
                        out[(r["id"], "MAX_DURATION")] = {
                            "still_running": kind == "IN_PROGRESS",
                            "limit_minutes": max_minutes,
                        }
                if finish is not None and kind != "SKIPPED":
                    local = ts(r["createdAt"]).astimezone(tz)
                    limit = time.fromisoformat(finish)
                    if local.time() <= limit:
                        deadline = datetime.combine(local.date(), limit, tz).astimezone(UTC)
                        end = completed or now
                        if end > deadline:
                            out[(r["id"], "LATEST_FINISH")] = {
                                "still_running": completed is None,
                                "deadline_utc": deadline.replace(tzinfo=None),
                            }
        return out


@pytest.fixture(scope="module")
def history() -> tuple[Path, dict[str, Any]]:
    return shared_history()


@pytest.fixture
def db(history: tuple[Path, dict[str, Any]]) -> Iterator[FileFake]:
    with opened(history[0]) as fake:
        yield fake


@pytest.fixture
def oracle(db: FileFake, history: tuple[Path, dict[str, Any]]) -> Oracle:
    loaded = {
        s: {r[0] for r in db.query(f"SELECT id FROM public.{s}")} for s in ("pipeline_runs", "task_runs", "operations")
    }
    return Oracle(history[1], loaded)


def view(db: FileFake, name: str) -> list[dict[str, Any]]:
    return [r.as_dict() for r in db.query(f"SELECT * FROM analytics.{name}")]


def test_the_tables_hold_the_ground_truth_of_every_loaded_record(db: FileFake, oracle: Oracle) -> None:
    """The oracle reads the truth; this proves it is the same data the views read."""
    table = {
        r[0]: r
        for r in db.query("SELECT id, run_status, created_at, started_at, completed_at FROM public.pipeline_runs")
    }
    for r in oracle.runs:
        assert table[r["id"]][1:] == (r["runStatus"], ts(r["createdAt"]), ts(r["startedAt"]), ts(r["completedAt"])), r[
            "id"
        ]
    tasks = {r[0]: r for r in db.query("SELECT id, status, number_of_attempts, completed_at FROM public.task_runs")}
    for t in oracle.tasks:
        assert tasks[t["id"]][1:] == (t["status"], t["numberOfAttempts"], ts(t["completedAt"])), t["id"]
    # The history has what the metrics are about.
    statuses = {r["runStatus"] for r in oracle.runs}
    assert {"SUCCEEDED", "WARNING", "FAILED", "CANCELLED", "RUNNING"} <= statuses, statuses
    assert any(a["attempt"] > 1 and a["status"] in SUCCESS for a in oracle.attempts()), "no retry that succeeded"
    assert len({oracle.day(r) for r in oracle.runs}) >= 7 and len(oracle.by_pipeline) == 3
    assert any(Oracle.duration(r) and Oracle.duration(r) > 86400 for r in oracle.runs), "no run lasting over a day"


def test_pipeline_daily_reliability(db: FileFake, oracle: Oracle) -> None:
    expected = oracle.daily()
    compare("pipeline_daily_reliability", view(db, "pipeline_daily_reliability"), expected, ("pipeline_id", "day"))
    assert any(v["in_progress"] for v in expected.values()) and any(v["failed"] for v in expected.values())


def test_pipeline_recovery_and_its_summary(db: FileFake, oracle: Oracle) -> None:
    expected = oracle.recovery()
    compare(
        "pipeline_recovery", view(db, "pipeline_recovery"), {(k,): v for k, v in expected.items()}, ("failed_run_id",)
    )
    assert any(v["is_recovered"] for v in expected.values())
    compare(
        "pipeline_recovery_summary", view(db, "pipeline_recovery_summary"), oracle.recovery_summary(), ("pipeline_id",)
    )


def test_pipeline_freshness_and_its_age_now(db: FileFake, oracle: Oracle) -> None:
    before = datetime.now(UTC)
    rows = view(db, "pipeline_freshness")
    after = datetime.now(UTC)
    compare(
        "pipeline_freshness",
        [{k: v for k, v in r.items() if k != "MINUTES_SINCE_SUCCESS"} for r in rows],
        oracle.freshness(),
        ("pipeline_id",),
    )
    for r in rows:
        # DATEDIFF('second') counts second boundaries crossed.
        low = (int(before.timestamp()) - int(r["LAST_SUCCESS_AT"].timestamp())) / 60
        high = (int(after.timestamp()) - int(r["LAST_SUCCESS_AT"].timestamp())) / 60
        assert low <= r["MINUTES_SINCE_SUCCESS"] <= high


def test_task_health_flaky_events_and_operations(db: FileFake, oracle: Oracle) -> None:
    flaky = oracle.flaky()
    rows = view(db, "flaky_task_events")
    compare("flaky_task_events", rows, flaky, ("failed_task_run_id", "succeeded_task_run_id"))
    assert any(v["is_retry_in_same_run"] for v in flaky.values()) and any(
        not v["is_retry_in_same_run"] for v in flaky.values()
    )
    health = oracle.task_health()
    compare("task_health", view(db, "task_health"), health, ("pipeline_id", "task_id"))
    assert (
        sum(v["retried"] for v in health.values()) > 0
        and sum(v["attempts"] - v["task_runs"] for v in health.values()) > 0
    )
    compare(
        "operation_stats",
        view(db, "operation_stats"),
        oracle.operation_stats(),
        ("integration", "operation_type", "operation_name"),
    )


def test_sla_breaches_against_the_limits_set_by_the_procedure(db: FileFake, oracle: Oracle) -> None:
    limits = {r["PIPELINE_NAME"]: r for r in view(db, "pipeline_slas")}
    for name, minutes, finish, zone in SLAS:
        assert limits[name]["MAX_DURATION_MINUTES"] == minutes
        assert limits[name]["LATEST_FINISH_TIME"] == (time.fromisoformat(finish) if finish else None)
        assert limits[name]["TIME_ZONE"] == (zone or "UTC")
    rows = view(db, "sla_breaches")
    expected = oracle.sla_breaches(SLAS, datetime.now(UTC))
    got = {(r["PIPELINE_RUN_ID"], r["BREACH_TYPE"]): r for r in rows}
    assert set(got) == set(expected)
    for key, want in expected.items():
        for col, value in want.items():
            assert same(got[key][col.upper()], value), (key, col, got[key][col.upper()], value)
    kinds = {(k[1], v["still_running"]) for k, v in expected.items()}
    assert kinds == {("MAX_DURATION", False), ("MAX_DURATION", True), ("LATEST_FINISH", False), ("LATEST_FINISH", True)}


def test_sync_health_and_daily_loads_from_the_ingestion_history(db: FileFake) -> None:
    history = [r.as_dict() for r in db.query("SELECT * FROM public.ingestion_history")]
    state = {r[0]: r[1] for r in db.query("SELECT stream, cursor FROM config.sync_state")}
    now = datetime.now(UTC)
    rows = {r["STREAM"]: r for r in view(db, "sync_health")}
    assert set(rows) == {"pipeline_runs", "task_runs", "operations"}
    for stream, row in rows.items():
        mine = sorted((h for h in history if h["STREAM"] == stream), key=lambda h: (h["STARTED_AT"], h["RUN_ID"]))
        last = mine[-1]
        ok = [h["ENDED_AT"] for h in mine if h["STATUS"] == "SUCCEEDED"]
        failed = [h for h in mine if h["STATUS"] == "FAILED"]
        assert row["LAST_LOAD_STARTED_AT"] == last["STARTED_AT"] and row["LAST_LOAD_STATUS"] == last["STATUS"]
        assert row["LAST_LOAD_ROWS_MERGED"] == last["ROWS_MERGED"]
        assert same(row["LAST_LOAD_SECONDS"], micros(last["STARTED_AT"], last["ENDED_AT"]) / 1e6)
        assert row["LAST_SUCCESS_AT"] == max(ok)
        assert row["LOADS"] == len(mine) and row["FAILED_LOADS"] == len(failed)
        assert row["FAILURES_SINCE_SUCCESS"] == sum(h["STARTED_AT"] > max(ok) for h in failed)
        assert same(row["ROWS_MERGED"], float(sum(h["ROWS_MERGED"] or 0 for h in mine)))
        assert row["COMPLETE_UP_TO"] == state[stream]
        assert row["LOADS_24H"] == sum(h["STARTED_AT"] >= now - timedelta(hours=24) for h in mine)
        assert row["LAST_ERROR"] == (max(failed, key=lambda h: h["STARTED_AT"])["ERROR"] if failed else None)
    assert rows["operations"]["FAILED_LOADS"] == 1, "the history has one failed load of operations"
    assert "500" in rows["operations"]["LAST_ERROR"] or "HTTP 5" in rows["operations"]["LAST_ERROR"]
    daily = view(db, "sync_daily")
    for r in daily:
        mine = [h for h in history if h["STREAM"] == r["STREAM"] and h["STARTED_AT"].astimezone(UTC).date() == r["DAY"]]
        assert r["LOADS"] == len(mine) and r["FAILED_LOADS"] == sum(h["STATUS"] == "FAILED" for h in mine)
        assert same(r["ROWS_MERGED"], float(sum(h["ROWS_MERGED"] or 0 for h in mine)))
    assert sum(r["LOADS"] for r in daily) == len(history)
