"""Issue 12 edge cases, each on a few hand-made rows: a pipeline with no runs in a day, a run that
never finished, a retry that succeeded, a new pipeline version (not flaky), recovery across a
cancelled run, SLA deadlines in a time zone, and the SLA procedure's checks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from support.analytics_history import FileFake, install_data_and_analytics, opened
from support.analytics_sla import ProcedureError, set_pipeline_sla

A, B, C = "pipe-a", "pipe-b", "pipe-c"


def run(
    fake: FileFake,
    rid: str,
    pipeline: str,
    status: str,
    created: str,
    started: str | None = None,
    completed: str | None = None,
    version: int = 1,
    name: str | None = None,
) -> None:
    fake.query(
        "INSERT INTO public.pipeline_runs (id, pipeline_id, pipeline_name, run_status, pipeline_version_number, "
        "created_at, started_at, completed_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            rid,
            pipeline,
            name or pipeline.replace("pipe-", "pipeline_"),
            status,
            version,
            created,
            started,
            completed,
            completed or started or created,
        ],
    )


def task(
    fake: FileFake,
    tid: str,
    rid: str,
    pipeline: str,
    task_id: str,
    status: str,
    attempt: int,
    created: str,
    started: str | None = None,
    completed: str | None = None,
) -> None:
    fake.query(
        "INSERT INTO public.task_runs (id, pipeline_run_id, pipeline_id, task_id, task_name, integration, status, "
        "number_of_attempts, created_at, started_at, completed_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            tid,
            rid,
            pipeline,
            task_id,
            f"Task {task_id}",
            "DBT",
            status,
            attempt,
            created,
            started,
            completed,
            completed or created,
        ],
    )


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FileFake]:
    with opened(tmp_path / "db") as f:
        install_data_and_analytics(f.session)
        yield f


def rows(fake: FileFake, sql: str) -> list[dict[str, Any]]:
    return [r.as_dict() for r in fake.query(sql)]


def test_a_day_without_runs_has_a_row_with_zero_runs_and_no_rates(fake: FileFake) -> None:
    run(
        fake,
        "a1",
        A,
        "SUCCEEDED",
        "2026-06-01T10:00:00+00:00",
        "2026-06-01T10:00:10+00:00",
        "2026-06-01T10:05:10+00:00",
    )
    run(fake, "a2", A, "FAILED", "2026-06-03T10:00:00+00:00", "2026-06-03T10:00:00+00:00", "2026-06-03T10:01:00+00:00")
    run(
        fake,
        "b1",
        B,
        "SUCCEEDED",
        "2026-06-04T23:59:59+00:00",
        "2026-06-05T00:00:01+00:00",
        "2026-06-05T00:10:01+00:00",
    )
    got = {(r["PIPELINE_ID"], r["DAY"]): r for r in rows(fake, "SELECT * FROM analytics.pipeline_daily_reliability")}
    # A: from its first day to the last day with any run (B's, in UTC by creation), every day.
    assert sorted(d for p, d in got if p == A) == [date(2026, 6, d) for d in (1, 2, 3, 4)]
    assert sorted(d for p, d in got if p == B) == [date(2026, 6, 4)]
    for empty in ((A, date(2026, 6, 2)), (A, date(2026, 6, 4))):
        r = got[empty]
        assert (r["RUNS"], r["SUCCEEDED"], r["FAILED"], r["IN_PROGRESS"]) == (0, 0, 0, 0)
        assert r["SUCCESS_RATE"] is None and r["P50_DURATION_SECONDS"] is None and r["MAX_DURATION_SECONDS"] is None
    assert got[(A, date(2026, 6, 1))]["SUCCESS_RATE"] == 1 and got[(A, date(2026, 6, 1))]["P95_DURATION_SECONDS"] == 300
    assert got[(A, date(2026, 6, 3))]["SUCCESS_RATE"] == 0 and got[(A, date(2026, 6, 3))]["MAX_DURATION_SECONDS"] == 60


def test_a_run_that_never_finished_counts_as_in_progress_and_breaches_once_late(fake: FileFake) -> None:
    run(
        fake,
        "ok",
        A,
        "SUCCEEDED",
        "2026-06-01T01:00:00+00:00",
        "2026-06-01T01:00:00+00:00",
        "2026-06-01T01:10:00+00:00",
    )
    run(fake, "stuck", A, "RUNNING", "2026-06-01T02:00:00+00:00", "2026-06-01T02:00:30+00:00")
    run(fake, "queued", A, "CREATED", "2026-06-01T03:00:00+00:00")
    run(
        fake,
        "stopped",
        A,
        "CANCELLED",
        "2026-06-01T04:00:00+00:00",
        "2026-06-01T04:00:00+00:00",
        "2026-06-01T09:00:00+00:00",
    )
    run(fake, "skip", A, "SKIPPED", "2026-06-01T07:59:00+00:00", None, "2026-06-01T08:00:30+00:00")
    day = rows(fake, "SELECT * FROM analytics.pipeline_daily_reliability")[0]
    assert (day["RUNS"], day["SUCCEEDED"], day["IN_PROGRESS"], day["CANCELLED"], day["SKIPPED"]) == (5, 1, 2, 1, 1)
    assert day["SUCCESS_RATE"] == 1 and day["MAX_DURATION_SECONDS"] == 600, "only runs with a result have durations"
    fresh = rows(fake, "SELECT * FROM analytics.pipeline_freshness")[0]
    assert (fresh["LAST_RUN_ID"], fresh["LAST_RUN_STATUS"], fresh["LAST_SUCCESS_RUN_ID"]) == ("skip", "SKIPPED", "ok")
    set_pipeline_sla(fake.session, A, 60, "08:00", "UTC")
    breaches = {(r["PIPELINE_RUN_ID"], r["BREACH_TYPE"]): r for r in rows(fake, "SELECT * FROM analytics.sla_breaches")}
    # The stuck run: over 60 minutes and past 08:00 while still running; the queued one never
    # started (no duration) but is past the deadline; the cancelled one ended at 09:00; the skipped
    # run (skipped at 08:00:30) is exempt; the run that finished at 01:10 is fine.
    assert set(breaches) == {
        ("stuck", "MAX_DURATION"),
        ("stuck", "LATEST_FINISH"),
        ("queued", "LATEST_FINISH"),
        ("stopped", "LATEST_FINISH"),
    }
    assert (
        breaches[("stuck", "MAX_DURATION")]["STILL_RUNNING"] and breaches[("stuck", "LATEST_FINISH")]["STILL_RUNNING"]
    )
    assert (
        breaches[("stopped", "LATEST_FINISH")]["MINUTES_OVER"] == 60
        and not breaches[("stopped", "LATEST_FINISH")]["STILL_RUNNING"]
    )
    assert breaches[("stopped", "LATEST_FINISH")]["DEADLINE_UTC"] == datetime(2026, 6, 1, 8, 0)


def test_a_retry_that_succeeded_is_one_task_run_retried_and_one_flaky_event(fake: FileFake) -> None:
    run(
        fake,
        "r1",
        A,
        "SUCCEEDED",
        "2026-06-01T01:00:00+00:00",
        "2026-06-01T01:00:00+00:00",
        "2026-06-01T01:30:00+00:00",
    )
    task(
        fake,
        "t1a",
        "r1",
        A,
        "dbt",
        "FAILED",
        1,
        "2026-06-01T01:00:05+00:00",
        "2026-06-01T01:00:06+00:00",
        "2026-06-01T01:05:00+00:00",
    )
    task(
        fake,
        "t1b",
        "r1",
        A,
        "dbt",
        "SUCCEEDED",
        2,
        "2026-06-01T01:06:00+00:00",
        "2026-06-01T01:06:00+00:00",
        "2026-06-01T01:16:00+00:00",
    )
    # Next run, new pipeline version: a failure then a success across runs is a fix, not flakiness.
    run(fake, "r2", A, "FAILED", "2026-06-02T01:00:00+00:00", "2026-06-02T01:00:00+00:00", "2026-06-02T01:10:00+00:00")
    task(
        fake,
        "t2",
        "r2",
        A,
        "dbt",
        "FAILED",
        1,
        "2026-06-02T01:00:05+00:00",
        "2026-06-02T01:00:05+00:00",
        "2026-06-02T01:10:00+00:00",
    )
    run(
        fake,
        "r3",
        A,
        "SUCCEEDED",
        "2026-06-03T01:00:00+00:00",
        "2026-06-03T01:00:00+00:00",
        "2026-06-03T01:10:00+00:00",
        version=2,
    )
    task(
        fake,
        "t3",
        "r3",
        A,
        "dbt",
        "SUCCEEDED",
        1,
        "2026-06-03T01:00:05+00:00",
        "2026-06-03T01:00:05+00:00",
        "2026-06-03T01:08:05+00:00",
    )
    events = rows(fake, "SELECT * FROM analytics.flaky_task_events")
    assert [(e["FAILED_TASK_RUN_ID"], e["SUCCEEDED_TASK_RUN_ID"], e["IS_RETRY_IN_SAME_RUN"]) for e in events] == [
        ("t1a", "t1b", True)
    ]
    h = rows(fake, "SELECT * FROM analytics.task_health")[0]
    assert (h["TASK_RUNS"], h["ATTEMPTS"], h["SUCCEEDED"], h["FAILED"], h["RETRIED"], h["RETRIED_THEN_SUCCEEDED"]) == (
        3,
        4,
        2,
        1,
        1,
        1,
    )
    assert h["FAILURE_RATE"] == pytest.approx(1 / 3) and h["FLAKY_EVENTS"] == 1 and h["IS_FLAKY"]
    # Durations of final attempts only: 600 s (t1b), 595 s (t2), 480 s (t3).
    assert (h["P50_DURATION_SECONDS"], h["MAX_DURATION_SECONDS"]) == (595, 600)
    finals = {r["TASK_RUN_ID"]: r["IS_FINAL_ATTEMPT"] for r in rows(fake, "SELECT * FROM analytics.task_attempts")}
    assert finals == {"t1a": False, "t1b": True, "t2": True, "t3": True}


def test_recovery_skips_cancelled_runs_and_leaves_the_last_failure_open(fake: FileFake) -> None:
    run(fake, "f1", A, "FAILED", "2026-06-01T01:00:00+00:00", "2026-06-01T01:00:00+00:00", "2026-06-01T01:10:00+00:00")
    run(fake, "f2", A, "FAILED", "2026-06-01T02:00:00+00:00", "2026-06-01T02:00:00+00:00", "2026-06-01T02:10:00+00:00")
    run(
        fake,
        "c1",
        A,
        "CANCELLED",
        "2026-06-01T03:00:00+00:00",
        "2026-06-01T03:00:00+00:00",
        "2026-06-01T03:05:00+00:00",
    )
    run(fake, "w1", A, "WARNING", "2026-06-01T04:00:00+00:00", "2026-06-01T04:00:00+00:00", "2026-06-01T04:10:00+00:00")
    run(fake, "f3", A, "FAILED", "2026-06-01T05:00:00+00:00", "2026-06-01T05:00:00+00:00", "2026-06-01T05:10:00+00:00")
    got = {r["FAILED_RUN_ID"]: r for r in rows(fake, "SELECT * FROM analytics.pipeline_recovery")}
    assert {k: (v["RECOVERED_BY_RUN_ID"], v["MINUTES_TO_RECOVERY"]) for k, v in got.items()} == {
        "f1": ("w1", 180),
        "f2": ("w1", 120),
        "f3": (None, None),
    }
    s = rows(fake, "SELECT * FROM analytics.pipeline_recovery_summary")[0]
    assert (s["FAILURES"], s["RECOVERED"], s["UNRECOVERED"], s["MEAN_MINUTES_TO_RECOVERY"]) == (3, 2, 1, 150)
    assert s["FAILING_SINCE"] == datetime.fromisoformat("2026-06-01T05:10:00+00:00")
    fresh = rows(fake, "SELECT * FROM analytics.pipeline_freshness")[0]
    assert fresh["LAST_SUCCESS_RUN_ID"] == "w1" and fresh["FAILURES_SINCE_SUCCESS"] == 1


def test_latest_finish_time_is_local_to_the_sla_time_zone(fake: FileFake) -> None:
    # Paris is UTC+2 in June: a 06:00 deadline is 04:00 UTC.
    run(
        fake,
        "late",
        A,
        "SUCCEEDED",
        "2026-06-01T03:00:00+00:00",
        "2026-06-01T03:00:00+00:00",
        "2026-06-01T04:10:00+00:00",
    )
    run(
        fake,
        "on-time",
        A,
        "SUCCEEDED",
        "2026-06-02T03:00:00+00:00",
        "2026-06-02T03:00:00+00:00",
        "2026-06-02T03:59:00+00:00",
    )
    # Created at 06:30 Paris: after the deadline of its local day, so not subject to it.
    run(
        fake,
        "after",
        A,
        "SUCCEEDED",
        "2026-06-03T04:30:00+00:00",
        "2026-06-03T04:30:00+00:00",
        "2026-06-03T09:00:00+00:00",
    )
    # Created 23:30 UTC on June 3 = 01:30 Paris on June 4: its deadline is June 4 04:00 UTC.
    run(
        fake,
        "night",
        A,
        "FAILED",
        "2026-06-03T23:30:00+00:00",
        "2026-06-03T23:30:00+00:00",
        "2026-06-04T04:30:00+00:00",
    )
    set_pipeline_sla(fake.session, "pipeline_a", None, "06:00", "Europe/Paris")
    got = {r["PIPELINE_RUN_ID"]: r for r in rows(fake, "SELECT * FROM analytics.sla_breaches")}
    assert set(got) == {"late", "night"}
    assert got["late"]["DEADLINE_UTC"] == datetime(2026, 6, 1, 4, 0) and got["late"]["MINUTES_OVER"] == 10
    assert got["night"]["DEADLINE_UTC"] == datetime(2026, 6, 4, 4, 0) and got["night"]["RUN_DAY"] == date(2026, 6, 3)


def test_the_sla_procedure_names_the_bad_argument_and_changes_nothing(fake: FileFake) -> None:
    run(fake, "a1", A, "SUCCEEDED", "2026-06-01T01:00:00+00:00")
    run(fake, "b1", B, "SUCCEEDED", "2026-06-01T01:00:00+00:00", name="shared")
    run(fake, "c1", C, "SUCCEEDED", "2026-06-01T01:00:00+00:00", name="shared")
    cases = {
        ("nope", 10.0, None, None): "pipeline: no loaded pipeline run",
        ("shared", 10.0, None, None): "pipeline: several pipelines have this name",
        (A, 0.0, None, None): "max_duration_minutes:",
        (A, -5.0, None, None): "max_duration_minutes:",
        (A, None, "7 am", None): "latest_finish_time:",
        (A, None, "24:30", None): "latest_finish_time:",
        (A, None, "06:00", "Europe/Pariss"): "time_zone:",
    }
    for args, message in cases.items():
        with pytest.raises(ProcedureError) as err:
            set_pipeline_sla(fake.session, *args)
        assert err.value.message.startswith(message), (args, err.value.message)
    assert rows(fake, "SELECT * FROM config.pipeline_sla") == []
    # By id (the ambiguous name's way out), then by name; both NULL removes the limits.
    assert "max_duration_minutes=15" in set_pipeline_sla(fake.session, B, 15.0, None, None)
    set_pipeline_sla(fake.session, "pipeline_a", 30.0, "07:30", "America/New_York")
    slas = {r["PIPELINE_ID"]: r for r in rows(fake, "SELECT * FROM analytics.pipeline_slas")}
    assert slas[A]["LATEST_FINISH_TIME"] == time(7, 30) and slas[A]["TIME_ZONE"] == "America/New_York"
    assert slas[B]["TIME_ZONE"] == "UTC" and slas[B]["PIPELINE_NAME"] == "shared"
    set_pipeline_sla(fake.session, "pipeline_a", 45.0, None, None)
    assert [
        r["MAX_DURATION_MINUTES"] for r in rows(fake, f"SELECT * FROM config.pipeline_sla WHERE pipeline_id = '{A}'")
    ] == [45]
    set_pipeline_sla(fake.session, "pipeline_a", None, None, None)
    assert [r["PIPELINE_ID"] for r in rows(fake, "SELECT * FROM config.pipeline_sla")] == [B]
