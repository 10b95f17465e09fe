"""The generated DDL and every MERGE, executed through fakesnow (issue test 2).

Fixtures are the simulator's own records (its ground truth), normalized as the loader does.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
import snowflake.connector
from orchestra_app.schema import STREAMS
from orchestra_app.store import STAGE_DDL, WRITE_PANDAS_STATEMENTS, Store
from support.fake_snowflake import APP_DIR, FakeSnowflake, run_setup_script, split_statements
from support.rows import differences, record_of, select_list
from support.simulator import Simulator

STREAM_NAMES = list(STREAMS)


@pytest.fixture(scope="module")
def truth() -> Iterator[dict[str, list[dict[str, Any]]]]:
    with Simulator("--scenario", "calm", "--clock", "manual", "--seed", "11", "--records", "1500") as sim:
        yield {s: sim.truth(s) for s in STREAM_NAMES}


def records(truth: dict[str, list[dict[str, Any]]], stream: str, n: int | None = None) -> list[dict[str, Any]]:
    return [record_of(r, stream) for r in truth[stream][:n]]


def rows_by_id(app: FakeSnowflake, stream: str) -> dict[str, tuple[Any, ...]]:
    return {r[0]: tuple(r) for r in app.query(f"SELECT {select_list(stream)} FROM public.{stream}")}


def assert_table_equals(app: FakeSnowflake, stream: str, expected: list[dict[str, Any]]) -> None:
    rows = rows_by_id(app, stream)
    by_id = {r["id"]: r for r in expected}
    missing, extra = set(by_id) - set(rows), set(rows) - set(by_id)
    assert not missing and not extra, f"ids differ: missing {missing}, extra {extra}"
    problems = [d for rid, rec in by_id.items() for d in differences(stream, rec, rows[rid])]
    assert not problems, "\n".join(problems[:20])


def table_columns(app: FakeSnowflake, stream: str) -> list[str]:
    rows = app.query(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'PUBLIC' AND table_name = ? "
        "ORDER BY ordinal_position",
        [stream.upper()],
    )
    return [str(r[0]).lower() for r in rows]


@pytest.mark.parametrize("stream", STREAM_NAMES)
def test_each_table_has_a_column_for_every_schema_property_plus_loaded_at(app: FakeSnowflake, stream: str) -> None:
    expected = [c[0] for c in STREAMS[stream]["columns"]] + ["loaded_at", "_extra_fields"]
    assert table_columns(app, stream) == expected


@pytest.mark.parametrize("stream", STREAM_NAMES)
def test_every_api_field_lands_in_its_column_with_its_type(
    app: FakeSnowflake, truth: dict[str, list[dict[str, Any]]], stream: str
) -> None:
    recs = records(truth, stream)
    warnings: list[str] = []
    merged = Store(app.session).merge(stream, [recs[i : i + 100] for i in range(0, len(recs), 100)], warnings)
    assert merged == len(recs)
    assert warnings == []
    assert_table_equals(app, stream, recs)


def test_loading_the_same_pages_twice_keeps_one_row_per_id(
    app: FakeSnowflake, truth: dict[str, list[dict[str, Any]]]
) -> None:
    recs = records(truth, "task_runs", 150)
    store = Store(app.session)
    store.merge("task_runs", [recs[:100], recs[100:]], [])
    store.merge("task_runs", [recs[:100], recs[100:]], [])
    count, distinct = app.query("SELECT COUNT(*), COUNT(DISTINCT id) FROM public.task_runs")[0]
    assert (count, distinct) == (150, 150)
    assert_table_equals(app, "task_runs", recs)


def test_overlapping_pages_and_duplicates_in_one_batch_collapse_to_one_row(
    app: FakeSnowflake, truth: dict[str, list[dict[str, Any]]]
) -> None:
    recs = records(truth, "operations", 60)
    # Pages shift while data changes: page 2 repeats the tail of page 1, and page 3 repeats a row.
    pages = [recs[:30], recs[20:50], recs[45:60] + [recs[5]]]
    merged = Store(app.session).merge("operations", pages, [])
    assert merged == 60
    assert app.query("SELECT COUNT(*), COUNT(DISTINCT id) FROM public.operations")[0] == (60, 60)
    assert_table_equals(app, "operations", recs)


def test_within_a_batch_the_newest_version_of_a_run_wins_whatever_the_page_order(
    app: FakeSnowflake, truth: dict[str, list[dict[str, Any]]]
) -> None:
    run = records(truth, "pipeline_runs", 1)[0]
    running = {**copy.deepcopy(run), "run_status": "RUNNING", "updated_at": "2026-01-01T10:00:00.000000+00:00"}
    finished = {**copy.deepcopy(run), "run_status": "SUCCEEDED", "updated_at": "2026-01-01T10:05:00.000000+00:00"}
    # The newer copy is fetched first, the stale one later (shuffled order, shifting pages).
    Store(app.session).merge("pipeline_runs", [[finished], [running]], [])
    assert_table_equals(app, "pipeline_runs", [finished])


def test_a_run_that_changes_status_is_updated_in_place(
    app: FakeSnowflake, truth: dict[str, list[dict[str, Any]]]
) -> None:
    run = records(truth, "task_runs", 1)[0]
    store = Store(app.session)
    running = {**run, "status": "RUNNING", "completed_at": None, "updated_at": "2026-01-01T10:00:00+00:00"}
    store.merge("task_runs", [[running]], [])
    done = {**run, "status": "FAILED", "message": "boom", "completed_at": "2026-01-01T10:09:59.5+00:00",
            "updated_at": "2026-01-01T10:10:00+00:00"}
    assert store.merge("task_runs", [[done]], []) == 1
    assert_table_equals(app, "task_runs", [done])


def test_an_older_copy_never_overwrites_a_newer_row(app: FakeSnowflake, truth: dict[str, list[dict[str, Any]]]) -> None:
    run = records(truth, "pipeline_runs", 1)[0]
    store = Store(app.session)
    newer = {**run, "run_status": "SUCCEEDED", "updated_at": "2026-01-01T12:00:00+00:00"}
    older = {**run, "run_status": "RUNNING", "updated_at": "2026-01-01T11:00:00+00:00"}
    store.merge("pipeline_runs", [[newer]], [])
    assert store.merge("pipeline_runs", [[older]], []) == 0
    assert_table_equals(app, "pipeline_runs", [newer])


def test_timestamps_keep_their_instant_whatever_offset_or_precision_the_api_sends(
    app: FakeSnowflake, truth: dict[str, list[dict[str, Any]]]
) -> None:
    base = records(truth, "operations", 4)
    shapes = ["2026-03-01T12:00:00Z", "2026-03-01T14:00:00.123456789+02:00", "2026-03-01T07:00:00-05:00",
              "2026-03-01T12:00:00.5"]
    recs = [{**r, "inserted_at": s, "started_at": s} for r, s in zip(base, shapes, strict=True)]
    Store(app.session).merge("operations", [recs], [])
    instants = {r[0]: r[1].timestamp() for r in app.query("SELECT id, inserted_at FROM public.operations")}
    assert sorted(round(v, 3) for v in instants.values()) == sorted(
        [1772366400.0, 1772366400.123, 1772366400.0, 1772366400.5]
    )


def test_json_null_and_missing_values_become_sql_null_and_objects_stay_json(
    app: FakeSnowflake, truth: dict[str, list[dict[str, Any]]]
) -> None:
    run = records(truth, "task_runs", 1)[0]
    rec = {**run, "task_parameters": {"nested": {"camelCase": [1, None, "x"]}}, "run_parameters": None,
           "depends_on": [], "number_of_attempts": None}
    Store(app.session).merge("task_runs", [[rec]], [])
    params, run_params, depends, attempts = app.query(
        "SELECT task_parameters, run_parameters, depends_on, number_of_attempts FROM public.task_runs"
    )[0]
    assert run_params is None and attempts is None
    assert_table_equals(app, "task_runs", [rec])
    assert '"camelCase"' in params and depends is not None


def test_fields_the_api_adds_later_are_kept_in_extra_fields(
    app: FakeSnowflake, truth: dict[str, list[dict[str, Any]]]
) -> None:
    raw = {**truth["pipeline_runs"][0], "brandNewField": {"a": 1}, "anotherOne": "x"}
    rec = record_of(raw, "pipeline_runs")
    assert rec["brand_new_field"] == {"a": 1}
    Store(app.session).merge("pipeline_runs", [[rec]], [])
    assert_table_equals(app, "pipeline_runs", [rec])


def test_the_commit_column_answers_to_its_plain_name(
    app: FakeSnowflake, truth: dict[str, list[dict[str, Any]]]
) -> None:
    rec = {**records(truth, "pipeline_runs", 1)[0], "commit": "abc123"}
    Store(app.session).merge("pipeline_runs", [[rec]], [])
    assert app.query("SELECT commit FROM public.pipeline_runs")[0][0] == "abc123"
    assert app.query('SELECT "COMMIT" FROM public.pipeline_runs')[0][0] == "abc123"


def test_statements_per_batch_are_constant_whatever_the_number_of_records(
    app: FakeSnowflake, truth: dict[str, list[dict[str, Any]]]
) -> None:
    store = Store(app.session)
    small = records(truth, "task_runs", 10)
    large = records(truth, "task_runs")
    assert len(large) > 200
    per_batch = WRITE_PANDAS_STATEMENTS + 2  # write_pandas, then one MERGE and one DELETE
    before = store.statements
    store.merge("task_runs", [small], [])
    assert store.statements - before == 1 + per_batch  # + the staging table, once per load
    before = store.statements
    store.merge("task_runs", [large[i : i + 100] for i in range(0, len(large), 100)], [])
    assert store.statements - before == per_batch
    assert app.query("SELECT COUNT(*) FROM config.load_stage")[0][0] == 0, "each batch removes its staged rows"


def test_records_travel_as_files_so_no_statement_carries_them(
    app: FakeSnowflake, truth: dict[str, list[dict[str, Any]]]
) -> None:
    recs = records(truth, "operations")
    payload = sum(len(str(r)) for r in recs)
    before = len(app.session.sent)
    Store(app.session).merge("operations", [recs[i : i + 100] for i in range(0, len(recs), 100)], [])
    sizes = [s.bytes for s in app.session.sent[before:]]
    assert max(sizes) < 20_000 < payload, (max(sizes), payload)


def test_a_batch_merges_only_its_own_staged_rows(app: FakeSnowflake, truth: dict[str, list[dict[str, Any]]]) -> None:
    store = Store(app.session)
    store.merge("task_runs", [records(truth, "task_runs", 1)], [])
    # A concurrent load's staged rows (another batch id) are neither merged nor removed.
    app.query("INSERT INTO config.load_stage (batch_id, stream, seq, element) VALUES ('other', 'task_runs', 1, '{}')")
    assert store.merge("task_runs", [records(truth, "task_runs", 3)[1:]], []) == 2
    assert app.query("SELECT batch_id FROM config.load_stage") == [("other",)]


def test_the_stand_in_refuses_a_statement_over_one_megabyte_binds_included(app: FakeSnowflake) -> None:
    big = "x" * 999_990
    assert len(app.query("SELECT ? AS v", [big[:900_000]])[0][0]) == 900_000  # under the limit: runs
    with pytest.raises(snowflake.connector.errors.ProgrammingError, match="over the 1000000 bytes"):
        app.query("SELECT ? AS v", [big + "é" * 10])  # 1,000,010 bytes of binds (é is 2 bytes)
    with pytest.raises(snowflake.connector.errors.ProgrammingError, match="over the 1000000 bytes"):
        app.query("SELECT '" + big + "xxxxxxxxxxxxxx'")  # as a literal too


def test_owners_rights_procedures_cannot_create_named_temporary_tables(app: FakeSnowflake) -> None:
    with pytest.raises(snowflake.connector.errors.ProgrammingError, match="temporary TABLE"):
        app.query("CREATE TEMPORARY TABLE config.scratch (a VARCHAR)")
    import pandas

    with pytest.raises(snowflake.connector.errors.ProgrammingError, match="temporary TABLE"):
        app.session.write_pandas(pandas.DataFrame({"A": ["x"]}), "SCRATCH", schema="CONFIG", auto_create_table=True,
                                 table_type="temp")


def test_write_pandas_needs_the_table_and_its_columns(app: FakeSnowflake) -> None:
    import pandas

    with pytest.raises(snowflake.connector.errors.ProgrammingError, match="does not exist"):
        app.session.write_pandas(pandas.DataFrame({"A": ["x"]}), "NO_SUCH_TABLE", schema="CONFIG")
    Store(app.session).sql(STAGE_DDL)
    with pytest.raises(snowflake.connector.errors.ProgrammingError, match="invalid identifier"):
        app.session.write_pandas(pandas.DataFrame({"BATCH": ["x"]}), "LOAD_STAGE", schema="CONFIG")


def test_running_the_setup_script_again_keeps_every_row_state_and_setting(
    app: FakeSnowflake, truth: dict[str, list[dict[str, Any]]]
) -> None:
    store = Store(app.session)
    for stream in STREAM_NAMES:
        store.merge(stream, [records(truth, stream, 50)], [])
        store.save_state(stream, {"cursor": "2026-01-01T00:00:00.000Z", "open_ids": ["a"]})
    store.write_setting("lookback_hours", "6")
    store.history_start("run-1", "task_runs", "core.load_task_runs")
    before = {s: rows_by_id(app, s) for s in STREAM_NAMES}
    run_setup_script(app.session)  # the upgrade
    assert {s: rows_by_id(app, s) for s in STREAM_NAMES} == before
    assert store.read_state("operations") == {"cursor": "2026-01-01T00:00:00.000Z", "open_ids": ["a"]}
    assert store.read_settings()["lookback_hours"] == "6"
    assert app.query("SELECT COUNT(*) FROM public.ingestion_history")[0][0] == 1


def test_an_upgrade_adds_new_schema_columns_to_an_existing_table_without_losing_rows(snow: FakeSnowflake) -> None:
    # Version 0 of the app had a narrower table (only the seed README's first columns).
    snow.query("CREATE SCHEMA IF NOT EXISTS public")
    snow.query("CREATE TABLE public.pipeline_runs (id VARCHAR NOT NULL, run_status VARCHAR, loaded_at TIMESTAMP_TZ)")
    snow.query("INSERT INTO public.pipeline_runs (id, run_status) VALUES ('old-run', 'SUCCEEDED')")
    for statement in split_statements((APP_DIR / "sql" / "tables.sql").read_text()):
        snow.query(statement)
    assert table_columns(snow, "pipeline_runs") == ["id", "run_status", "loaded_at"] + [
        c[0] for c in STREAMS["pipeline_runs"]["columns"] if c[0] not in ("id", "run_status")
    ] + ["_extra_fields"]
    assert snow.query("SELECT id, run_status, git_link FROM public.pipeline_runs") == [("old-run", "SUCCEEDED", None)]


def test_sync_status_reports_last_success_last_error_rows_and_lag_per_stream(
    app: FakeSnowflake, truth: dict[str, list[dict[str, Any]]]
) -> None:
    store = Store(app.session)
    store.merge("task_runs", [records(truth, "task_runs", 20)], [])
    store.save_state("task_runs", {"cursor": "2026-01-01T00:00:00.000Z", "open_ids": ["x", "y"]})
    store.history_start("r1", "task_runs", "core.load_all")
    store.history_end("r1", "task_runs", "SUCCEEDED", {"rows_merged": 20, "warnings": []}, None)
    store.history_start("r2", "operations", "core.load_all")
    store.history_end("r2", "operations", "FAILED", {}, "Orchestra rejected the API key (401)")
    rows = {r["STREAM"]: r.as_dict() for r in app.query("SELECT * FROM public.sync_status")}
    assert set(rows) == set(STREAM_NAMES)
    assert rows["task_runs"]["LAST_STATUS"] == "SUCCEEDED" and rows["task_runs"]["LAST_SUCCESS_AT"] is not None
    assert rows["task_runs"]["ROW_COUNT"] == 20 and rows["task_runs"]["OPEN_RUNS_FOLLOWED"] == 2
    assert rows["task_runs"]["LAG_MINUTES"] > 0
    assert rows["operations"]["LAST_ERROR"] == "Orchestra rejected the API key (401)"
    assert rows["pipeline_runs"]["LAST_STATUS"] is None and rows["pipeline_runs"]["ROW_COUNT"] == 0
