"""Every SQL example of the seed README (Orchestra's own app) runs as written against this app.

The examples below are verbatim from the incumbent's README (shared/seed/orchestra-data-app-README.md),
except `'SUCCESS'`, which is not a status the API has: `'SUCCEEDED'` is. Orchestra's app made
core.get_* procedures, so `SELECT core.get_pipeline_runs();` and `FLATTEN(input =>
core.get_pipeline_runs():results)` failed there; here they are scalar functions.

fakesnow has no Python UDFs: each core.get_* function is registered in DuckDB as a macro over a
Python function that calls the app's real UDF handler code (orchestra_app.udfs.fetch_page) against
the simulator. CALLs run the real procedure handlers with the fakesnow session.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import duckdb
import duckdb.sqltypes as t
import pytest
from orchestra_app import handlers
from orchestra_app.client import ClientOptions
from orchestra_app.udfs import fetch_page
from support.fake_snowflake import FakeSnowflake
from support.simulator import Simulator

SETUP = "CALL core.create_eai_objects();"
FETCH = [
    "SELECT core.get_pipeline_runs();",
    "SELECT core.get_task_runs(2, 50);  -- page 2, 50 results per page",
    "SELECT core.get_operations();",
]
LOAD = ["CALL core.load_pipeline_runs();", "CALL core.load_task_runs();", "CALL core.load_operations();"]
QUERY = [
    "SELECT * FROM public.pipeline_runs ORDER BY created_at DESC;",
    "SELECT * FROM public.task_runs WHERE status = 'SUCCEEDED';",
    "SELECT * FROM public.operations WHERE pipeline_run_id = 'your-pipeline-run-id';",
]
EXTRACT = """SELECT
    value:id::STRING as pipeline_run_id,
    value:pipelineId::STRING as pipeline_id,
    value:runStatus::STRING as status,
    value:startedAt::TIMESTAMP_NTZ as started_at,
    value:completedAt::TIMESTAMP_NTZ as completed_at
FROM TABLE(FLATTEN(input => core.get_pipeline_runs():results));"""


def sql(example: str) -> str:
    return example.split("--")[0].strip().rstrip(";")


@pytest.fixture
def readme_app(app: FakeSnowflake) -> Iterator[FakeSnowflake]:
    with Simulator("--scenario", "calm", "--clock", "wall", "--seed", "9", "--records", "900") as sim:
        handlers.set_api_key(app.session, sim.api_key)
        handlers.set_setting(app.session, "api_url", sim.base_url)
        handlers.set_setting(app.session, "requests_per_minute", "100000")

        def page(stream: str, number: int, per_page: int) -> str:
            key = app.runtime.get_generic_secret_string(handlers.SECRET_NAME)
            return json.dumps(fetch_page(stream, number, per_page, options=ClientOptions(key, sim.base_url)))

        duck = app.conn._duck_conn
        duck.create_function("_orchestra_page", page, [t.VARCHAR, t.BIGINT, t.BIGINT], t.VARCHAR, side_effects=True)
        for stream in ("pipeline_runs", "task_runs", "operations"):
            call = f"json(_orchestra_page('{stream}', page, per_page))"
            duck.execute(
                f"CREATE OR REPLACE MACRO {app.session.app_name}.core.get_{stream}(page, per_page) AS {call}, "
                f"(page) AS json(_orchestra_page('{stream}', page, 100)), "
                f"() AS json(_orchestra_page('{stream}', 1, 100))"
            )
        yield app


def test_every_example_of_the_seed_readme_runs_as_written(readme_app: FakeSnowflake) -> None:
    app = readme_app
    assert "statements" in app.query(sql(SETUP))[0][0]

    first, second, ops = (json.loads(app.query(sql(q))[0][0]) for q in FETCH)
    assert first["page"] == 1 and first["pageSize"] == 100 and len(first["results"]) > 0
    assert second["page"] == 2 and second["pageSize"] == 50 and len(second["results"]) == 50
    assert len(ops["results"]) > 0 and "insertedAt" in ops["results"][0]

    for q in LOAD:
        summary = app.query(sql(q))[0][0]
        assert summary["status"] == "SUCCEEDED" and summary["rows_merged"] > 0

    runs = app.query(sql(QUERY[0]))
    assert len(runs) > 0 and runs == sorted(runs, key=lambda r: r["CREATED_AT"], reverse=True)
    succeeded = app.query(sql(QUERY[1]))
    assert len(succeeded) > 0 and {r["STATUS"] for r in succeeded} == {"SUCCEEDED"}
    assert app.query(sql(QUERY[2])) == []  # a placeholder id: no rows, and no error
    some_run = app.query("SELECT pipeline_run_id FROM public.operations LIMIT 1")[0][0]
    assert app.query(sql(QUERY[2]).replace("your-pipeline-run-id", some_run))

    extracted = app.query(sql(EXTRACT))
    assert len(extracted) > 0
    assert {r[2] for r in extracted} <= {"CREATED", "RUNNING", "SUCCEEDED", "WARNING", "FAILED", "SKIPPED",
                                         "CANCELLING", "CANCELLED"}
    assert all(r[0] and r[1] for r in extracted)


def test_a_function_error_raises_instead_of_returning_a_payload(readme_app: FakeSnowflake) -> None:
    handlers.set_api_key(readme_app.session, "revoked-key-123456")
    with pytest.raises(duckdb.Error, match=r"401"):
        readme_app.conn._duck_conn.execute(
            f"SELECT {readme_app.session.app_name}.core.get_pipeline_runs()"
        ).fetchall()
