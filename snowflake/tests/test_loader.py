"""The load_* handlers: the incremental algorithm against the simulator, SQL through fakesnow.

Windows, look-back, open runs re-polled by id, retention warning, history rows, schedule, and the
API key kept out of every output."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from orchestra_app import handlers
from orchestra_app.errors import OrchestraError
from orchestra_app.store import WRITE_PANDAS_STATEMENTS, Store
from support.fake_snowflake import FakeSnowflake, run_setup_script
from support.simulator import CANARY_KEY, Simulator
from support.statements import MAX_STATEMENT_BYTES as STATEMENT_LIMIT

START = "2026-05-04T06:00:00Z"
HOUR_MS = 3_600_000


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator("--scenario", "calm", "--clock", "manual", "--start", START, "--seed", "3", "--records", "900") as s:
        yield s


def configure(app: FakeSnowflake, sim: Simulator, **settings: str) -> None:
    handlers.set_api_key(app.session, sim.api_key)
    handlers.set_setting(app.session, "api_url", sim.base_url)
    handlers.set_setting(app.session, "requests_per_minute", "100000")
    for name, value in settings.items():
        handlers.set_setting(app.session, name, value)


def sent(sim: Simulator, endpoint: str) -> list[dict[str, str]]:
    return [r["query"] for r in sim.control("GET", "/_sim/requests?limit=5000") if r["endpoint"] == endpoint]


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_first_load_reads_the_retention_in_windows_of_window_hours_each_fully_paged(
    app: FakeSnowflake, sim: Simulator
) -> None:
    configure(app, sim, window_hours="24", page_size="25")
    summary = handlers.load_task_runs(app.session)
    queries = [q for q in sent(sim, "task_runs") if q.get("page_size") == "25"]
    windows = sorted({(q["time_from"], q["time_to"]) for q in queries})
    assert len(windows) == summary["streams"]["task_runs"]["windows"] == 7
    for (a_from, a_to), (b_from, _) in zip(windows, windows[1:], strict=False):
        assert ts(a_to) - ts(a_from) <= timedelta(hours=24)
        assert ts(b_from) <= ts(a_to), "windows must overlap or touch: a gap loses records"
    assert max(int(q["page"]) for q in queries) > 1, "some window must need several pages"
    assert all(q["time_from"] and q["time_to"] for q in sent(sim, "task_runs"))
    truth = {r["id"] for r in sim.truth("task_runs") if ts(r["createdAt"]) >= ts(windows[0][0])}
    loaded = {r[0] for r in app.query("SELECT id FROM public.task_runs")}
    assert truth - loaded == set()


def test_the_next_load_starts_lookback_hours_before_the_saved_cursor(app: FakeSnowflake, sim: Simulator) -> None:
    configure(app, sim, lookback_hours="5")
    first = handlers.load_operations(app.session)
    cursor = ts(first["streams"]["operations"]["cursor"])
    sim.advance(2 * HOUR_MS)
    sim.control("POST", "/_sim/reset-stats")
    handlers.load_operations(app.session)
    froms = [ts(q["time_from"]) for q in sent(sim, "operations") if q.get("page_size") == "100"]
    assert min(froms) == cursor - timedelta(hours=5)


def test_runs_last_seen_unfinished_are_refetched_by_id_until_they_finish(app: FakeSnowflake, sim: Simulator) -> None:
    configure(app, sim, lookback_hours="0")
    handlers.load_pipeline_runs(app.session)
    state = Store(app.session).read_state("pipeline_runs")
    assert state and state["open_ids"], "the simulator always has runs in progress"
    open_ids = set(state["open_ids"])
    sim.advance(12 * HOUR_MS)
    sim.control("POST", "/_sim/reset-stats")
    handlers.load_pipeline_runs(app.session)
    refetches = [q for q in sent(sim, "pipeline_runs") if "pipeline_run_ids" in q]
    asked = {i for q in refetches for i in q["pipeline_run_ids"].split(",")}
    assert asked and asked <= open_ids
    assert all(q["time_from"] and q["time_to"] for q in refetches)
    truth = {r["id"]: r["runStatus"] for r in sim.truth("pipeline_runs")}
    rows = dict(app.query("SELECT id, run_status FROM public.pipeline_runs"))
    stale = {i: (rows[i], truth[i]) for i in open_ids if rows.get(i) != truth[i]}
    assert not stale, f"runs left in an old status: {stale}"


def test_a_cursor_older_than_the_retention_warns_how_many_hours_are_lost(app: FakeSnowflake, sim: Simulator) -> None:
    configure(app, sim)
    lost_cursor = (ts(sim.now()) - timedelta(days=9)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    Store(app.session).save_state("operations", {"cursor": lost_cursor, "open_ids": []})
    summary = handlers.load_operations(app.session)
    warning = " ".join(summary["warnings"])
    assert "lost for good" in warning and "hours of operations" in warning
    history = app.query("SELECT warnings FROM public.ingestion_history WHERE stream = 'operations'")[0][0]
    assert "lost for good" in history


def test_sql_statements_per_load_depend_on_windows_not_on_records() -> None:
    counts = {}
    for records in ("200", "2000"):
        with Simulator("--scenario", "calm", "--clock", "manual", "--start", START, "--records", records) as s:
            fresh = FakeSnowflake(database=f"APP_{records}")
            try:
                run_setup_script(fresh.session)
                configure(fresh, s, window_hours="48")
                summary = handlers.load_all(fresh.session)
                counts[records] = (summary["sql_statements"], summary["rows_merged"])
            finally:
                fresh.close()
    assert counts["2000"][1] > 5 * counts["200"][1]
    assert counts["2000"][0] == counts["200"][0], counts


def test_a_failed_stream_is_recorded_and_raised_while_the_others_still_load(app: FakeSnowflake, sim: Simulator) -> None:
    configure(app, sim, retry_budget_seconds="0")
    sim.configure({"inject": [{"fault": "serverError", "count": 1, "endpoint": "task_runs", "status": 500}]})
    with pytest.raises(OrchestraError) as info:
        handlers.load_all(app.session)
    assert "task_runs" in str(info.value) and "ingestion_history" in str(info.value)
    statuses = dict(app.query("SELECT stream, status FROM public.ingestion_history"))
    assert statuses == {"pipeline_runs": "SUCCEEDED", "task_runs": "FAILED", "operations": "SUCCEEDED"}


def test_loading_without_a_key_says_how_to_set_one(app: FakeSnowflake) -> None:
    with pytest.raises(OrchestraError, match=r"core\.set_api_key"):
        handlers.load_all(app.session)


def test_the_api_key_never_appears_in_results_errors_tables_or_output(
    app: FakeSnowflake, sim: Simulator, capfd: pytest.CaptureFixture[str]
) -> None:
    configure(app, sim)
    outputs: list[Any] = [handlers.test_connection(app.session), handlers.load_all(app.session)]
    sim.configure({"inject": [{"fault": "serverError", "count": 30, "status": 503}]})
    handlers.set_setting(app.session, "retry_budget_seconds", "0")
    with pytest.raises(OrchestraError) as info:
        handlers.load_task_runs(app.session)
    outputs += [str(info.value), repr(info.value)]
    handlers.set_api_key(app.session, "other-" + CANARY_KEY[::-1])
    with pytest.raises(OrchestraError) as info:
        handlers.load_operations(app.session)
    outputs += [str(info.value), repr(info.value)]
    for table in ("public.ingestion_history", "public.sync_status", "config.settings", "config.sync_state"):
        outputs.append(app.query(f"SELECT * FROM {table}"))
    out, err = capfd.readouterr()
    blob = repr(outputs) + out + err
    assert CANARY_KEY not in blob and CANARY_KEY[::-1] not in blob


@pytest.mark.parametrize("key", ["", "has space inside", "quote'inject", "short"])
def test_set_api_key_refuses_what_cannot_be_a_key(app: FakeSnowflake, key: str) -> None:
    with pytest.raises(OrchestraError, match="does not look like an Orchestra API key"):
        handlers.set_api_key(app.session, key)
    assert app.runtime.secrets["config.orchestra_api_key"] == "unset"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [("lookback_hours", "200", "lookback_hours = '200' is not valid"), ("colour", "red", "Unknown setting 'colour'"),
     ("start_date", "yesterday", "ISO 8601"), ("account_id", "123", "UUID"),
     ("environments", "production", "comma list of UUIDs")],
)
def test_a_bad_setting_is_refused_naming_the_setting(app: FakeSnowflake, name: str, value: str, message: str) -> None:
    with pytest.raises(OrchestraError, match=message):
        handlers.set_setting(app.session, name, value)


def test_enable_schedule_needs_the_approval_and_a_working_key_then_resumes_the_task(
    app: FakeSnowflake, sim: Simulator
) -> None:
    configure(app, sim)
    with pytest.raises(OrchestraError, match="approve the 'Orchestra API' app specification"):
        handlers.enable_schedule(app.session, "0 */6 * * *")
    assert app.runtime.tasks["config.load_all_task"]["state"] == "suspended"
    app.runtime.approve_all()
    with pytest.raises(OrchestraError, match="not a cron expression"):
        handlers.enable_schedule(app.session, "every hour")
    result = handlers.enable_schedule(app.session, "0 */6 * * *")
    task = app.runtime.tasks["config.load_all_task"]
    assert task["state"] == "started" and task["schedule"] == "USING CRON 0 */6 * * * UTC"
    assert result["connection"]["ok"] is True
    handlers.disable_schedule(app.session)
    assert task["state"] == "suspended"
    handlers.set_api_key(app.session, "revoked-key-123456")
    with pytest.raises(OrchestraError, match="401"):
        handlers.enable_schedule(app.session, "0 * * * *")
    assert task["state"] == "suspended"


def test_pipeline_and_environment_filters_reach_the_api_and_limit_the_rows(app: FakeSnowflake, sim: Simulator) -> None:
    info = sim.control("GET", "/_sim/info")
    pipeline = info["pipelines"][0]["id"]
    environment = info["environments"][0]["id"]
    configure(app, sim, pipeline_ids=pipeline, environments=environment)
    handlers.load_pipeline_runs(app.session)
    handlers.load_task_runs(app.session)
    runs = [q for q in sent(sim, "pipeline_runs") if q["page_size"] != "1"]  # not the connection check
    assert runs and all(q.get("pipeline_ids") == pipeline and q.get("environments") == environment for q in runs)
    tasks = [q for q in sent(sim, "task_runs") if q["page_size"] != "1"]
    assert tasks and all(q.get("pipeline_ids") == pipeline and "environments" not in q for q in tasks)
    rows = app.query("SELECT DISTINCT pipeline_id, env_id FROM public.pipeline_runs")
    assert rows and all(r == (pipeline, environment) for r in rows), rows


def test_a_first_load_starts_at_start_date_and_an_older_one_is_clamped_to_the_retention(
    app: FakeSnowflake, sim: Simulator
) -> None:
    now = ts(sim.now())
    configure(app, sim, start_date=(now - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    handlers.load_operations(app.session)
    froms = [ts(q["time_from"]) for q in sent(sim, "operations") if q["page_size"] != "1"]
    assert min(froms) == now - timedelta(days=2)
    handlers.reset_stream(app.session, "operations")
    handlers.set_setting(app.session, "start_date", "2020-01-01T00:00:00Z")
    sim.control("POST", "/_sim/reset-stats")
    handlers.load_operations(app.session)
    froms = [ts(q["time_from"]) for q in sent(sim, "operations") if q["page_size"] != "1"]
    # The server's now is its Date header plus the local time elapsed since (milliseconds here).
    assert abs(min(froms) - (now - timedelta(days=7) + timedelta(minutes=10))) < timedelta(seconds=2)


def test_a_month_of_daily_loads_sends_no_statement_over_1_mb_and_a_constant_count_per_window() -> None:
    """30 daily loads of a busy account (about 3,000 records a day): every statement the app sends
    (binds included) stays under Snowflake's 1 MB, and each window costs the same statements."""
    with Simulator("--scenario", "calm", "--clock", "manual", "--start", START, "--seed", "9",
                   "--records", "20000") as s:
        fresh = FakeSnowflake(database="APP_MONTH")
        try:
            run_setup_script(fresh.session)
            configure(fresh, s, window_hours="24")
            before = len(fresh.session.sent)
            windows = 0
            for _ in range(30):
                windows += sum(v["windows"] for v in handlers.load_all(fresh.session)["streams"].values())
                s.advance(24 * HOUR_MS)
            sent = fresh.session.sent[before:]
        finally:
            fresh.close()
    biggest = max(x.bytes for x in sent)
    print(f"month: {len(sent)} statements, {windows} windows, largest {biggest} bytes")
    assert biggest < STATEMENT_LIMIT
    # One window's statements end at its state checkpoint. With records: write_pandas, MERGE,
    # DELETE, then the checkpoint; without: the checkpoint alone. (Per load and per stream there
    # are a fixed few more: settings, history, state read, the staging table.)
    per_window: list[int] = []
    count = 0
    for x in sent:
        if x.sql.startswith(("SELECT state FROM config.sync_state", "CREATE TRANSIENT TABLE")):
            count = 0  # a stream starts (and the load makes sure of its staging table once)
            continue
        count += 1
        if x.sql.startswith("MERGE INTO config.sync_state"):
            per_window.append(count)
            count = 0
    assert len(per_window) >= windows
    # (A state equal to the previous one is not saved again: docs/sync-algorithm.md, step 5.)
    assert WRITE_PANDAS_STATEMENTS + 3 in per_window, sorted(set(per_window))
    assert set(per_window) <= {1, WRITE_PANDAS_STATEMENTS + 3}, sorted(set(per_window))
