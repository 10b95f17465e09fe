"""Every SQL example of the seed README (Orchestra's own app) runs as written, in the seed's order,
against this app installed on the stand-in account, as a consumer with the app_admin role.

The examples are the seed's own, except `'SUCCESS'`, which is not a status the API has:
`'SUCCEEDED'` is. Orchestra's app made core.get_* procedures, so `SELECT core.get_pipeline_runs();`
and `FLATTEN(input => core.get_pipeline_runs():results)` failed there; here they are scalar
functions. The stand-in runs each routine's real handler (UDFs as DuckDB functions) with its own
secrets and network rules; requests to app.getorchestra.io go to the simulator instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from support.account import Account, InstalledApp
from support.simulator import Simulator

ORCHESTRA = "https://app.getorchestra.io/api/engine/public"
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
def installed() -> Iterator[InstalledApp]:
    account = Account()
    yield account.install("ORCHESTRA_DATA_APP")
    account.close()


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator("--scenario", "calm", "--clock", "wall", "--seed", "9", "--records", "900") as s:
        yield s


def test_before_a_key_is_set_the_seeds_first_steps_each_say_to_run_core_set_api_key(
    installed: InstalledApp, sim: Simulator
) -> None:
    installed.account.redirects[ORCHESTRA] = sim.base_url
    installed.account.approve(installed.name)  # the seed's "grant the EAI reference" step
    admin = installed.as_role("app_admin")
    assert "CALL core.set_api_key(" in admin.execute(sql(SETUP))[0][0]
    for step in [FETCH[0], LOAD[0]]:
        with pytest.raises(Exception, match=r"core\.set_api_key\('<key>'\)") as info:
            admin.execute(sql(step))
        assert str(info.value).count("core.set_api_key") == 1, str(info.value)


def test_every_example_of_the_seed_readme_runs_as_written(installed: InstalledApp, sim: Simulator) -> None:
    installed.account.redirects[ORCHESTRA] = sim.base_url
    installed.account.approve(installed.name)
    app = installed.as_role("app_admin")
    app.execute(f"CALL core.set_api_key('{sim.api_key}')")
    app.execute("CALL core.set_setting('requests_per_minute', '100000')")
    assert app.execute(sql(SETUP))[0][0].startswith("Ready:")

    first, second, ops = (json.loads(app.execute(sql(q))[0][0]) for q in FETCH)
    assert first["page"] == 1 and first["pageSize"] == 100 and len(first["results"]) > 0
    assert second["page"] == 2 and second["pageSize"] == 50 and len(second["results"]) == 50
    assert len(ops["results"]) > 0 and "insertedAt" in ops["results"][0]

    for q in LOAD:
        summary = app.execute(sql(q))[0][0]
        assert summary["status"] == "SUCCEEDED" and summary["rows_merged"] > 0

    runs = app.execute(sql(QUERY[0]))
    assert len(runs) > 0 and runs == sorted(runs, key=lambda r: r["CREATED_AT"], reverse=True)
    succeeded = app.execute(sql(QUERY[1]))
    assert len(succeeded) > 0 and {r["STATUS"] for r in succeeded} == {"SUCCEEDED"}
    assert app.execute(sql(QUERY[2])) == []  # a placeholder id: no rows, and no error
    some_run = app.execute("SELECT pipeline_run_id FROM public.operations LIMIT 1")[0][0]
    assert app.execute(sql(QUERY[2]).replace("your-pipeline-run-id", some_run))

    extracted = app.execute(sql(EXTRACT))
    assert len(extracted) > 0
    assert {r[2] for r in extracted} <= {
        "CREATED",
        "RUNNING",
        "SUCCEEDED",
        "WARNING",
        "FAILED",
        "SKIPPED",
        "CANCELLING",
        "CANCELLED",
    }
    assert all(r[0] and r[1] for r in extracted)


def test_a_function_error_raises_instead_of_returning_a_payload(installed: InstalledApp, sim: Simulator) -> None:
    installed.account.redirects[ORCHESTRA] = sim.base_url
    installed.account.approve(installed.name)
    app = installed.as_role("app_admin")
    app.execute("CALL core.set_api_key('revoked-key-123456')")
    with pytest.raises(Exception, match=r"401"):
        app.execute("SELECT core.get_pipeline_runs()")
