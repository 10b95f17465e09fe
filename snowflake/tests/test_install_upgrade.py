"""The app's life in a consumer account, on the stand-in account (support/account/): install,
approve, set the key, load, schedule, upgrade to a second version, uninstall. Every consumer step
runs as SQL through an application-role session, as the README tells the consumer to."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import snowflake.connector
from orchestra_app import egress
from support.account import Account, InstalledApp, copy_package
from support.fake_snowflake import APP_DIR
from support.simulator import Simulator

APP = "ORCHESTRA_DATA_APP"
Error = snowflake.connector.errors.ProgrammingError


def second_version(tmp_path: Path, edit: Any = None) -> Path:
    """The package as version 2 (what the provider would publish next)."""
    return copy_package(
        tmp_path / "v2",
        edit,
        lambda text: text.replace("name: v1_0", "name: v2_0").replace('label: "1.0"', 'label: "2.0"'),
    )


def configure(app: InstalledApp, sim: Simulator) -> Any:
    """The consumer's first steps: approve, set the key (and point the app at the simulator)."""
    admin = app.as_role("app_admin")
    app.account.approve(app.name, "orchestra_api")
    admin.execute(f"CALL core.set_api_key('{sim.api_key}')")
    admin.execute(f"CALL core.set_setting('api_url', '{sim.base_url}')")
    admin.execute("CALL core.set_setting('requests_per_minute', '100000')")
    return admin


def snapshot(app: InstalledApp) -> dict[str, Any]:
    tables = ("public.pipeline_runs", "public.task_runs", "public.operations", "config.sync_state", "config.settings")
    return {t: sorted(map(tuple, app.query(f"SELECT * FROM {t}")), key=repr) for t in tables}


def test_install_creates_every_routine_the_readme_names_bound_to_this_apps_integration(account: Account) -> None:
    app = account.install(APP)
    readme = (APP_DIR / "README.md").read_text()
    names = {key.split("(")[0] for key in app.runtime.routines}
    for name in names - {"core.on_specification_change"}:
        assert name in readme, f"{name} is not in the consumer's README"
    network = {r.name for rs in app.routines.values() for r in rs if r.integrations}
    assert network == {
        f"core.{n}"
        for n in (
            "get_pipeline_runs",
            "get_task_runs",
            "get_operations",
            "load_pipeline_runs",
            "load_task_runs",
            "load_operations",
            "load_all",
            "test_connection",
            "enable_schedule",
        )
    }
    eai = egress.eai_name(APP).strip('"')
    assert all(
        r.integrations == [eai] and r.secrets == {"orchestra_api_key": egress.SECRET}
        for rs in app.routines.values()
        for r in rs
        if r.integrations
    )
    assert account.integrations[eai].owner == APP
    assert all(r.in_setup for rs in app.routines.values() for r in rs), "every routine comes from the setup script"
    assert app.runtime.specs["orchestra_api"]["status"] == "PENDING"
    assert app.runtime.tasks["config.load_all_task"]["state"] == "suspended"


def test_create_eai_objects_says_what_is_missing_then_that_the_app_is_ready(
    account: Account, calm_sim: Simulator
) -> None:
    app = account.install(APP)
    admin = app.as_role("app_admin")
    first = admin.execute("CALL core.create_eai_objects()")[0][0]
    assert "Approve the app specification ORCHESTRA_API" in first and "CALL core.set_api_key" in first
    account.approve(APP)
    assert app.callback_history[-1].get("result") == "APPROVED", app.callback_history
    assert app.query("SELECT value FROM config.app_status WHERE name = 'specification orchestra_api'") == [
        ("APPROVED",)
    ]
    second = admin.execute("CALL core.create_eai_objects()")[0][0]
    assert "Approve" not in second and "CALL core.set_api_key" in second
    admin.execute(f"CALL core.set_api_key('{calm_sim.api_key}')")
    assert admin.execute("CALL core.create_eai_objects()")[0][0].startswith("Ready:")
    # It repairs: a dropped or disabled integration comes back as the app defined it.
    account.integrations[egress.eai_name(APP).strip('"')].enabled = False
    admin.execute("CALL core.create_eai_objects()")
    assert account.integrations[egress.eai_name(APP).strip('"')].enabled is True


def test_upgrade_keeps_rows_state_secret_approval_and_a_schedule_that_runs_the_new_version(
    account: Account, calm_sim: Simulator, tmp_path: Path
) -> None:
    app = account.install(APP)
    admin = configure(app, calm_sim)
    first = admin.execute("CALL core.load_all()")[0][0]
    assert first["status"] == "SUCCEEDED"
    admin.execute("CALL core.enable_schedule('0 * * * *')")
    calm_sim.advance(3_600_000)
    assert app.fire_task()["state"] == "SUCCEEDED"
    before = snapshot(app)
    assert all(before[t] for t in ("public.pipeline_runs", "public.task_runs", "public.operations"))
    secret = app.runtime.secrets[egress.SECRET]
    v1_load_all = app.resolve("core.load_all", 0)

    account.upgrade(APP, second_version(tmp_path))

    assert snapshot(app) == before, "rows, sync state and settings survive the upgrade"
    assert app.runtime.secrets[egress.SECRET] == secret
    assert (
        app.runtime.specs["orchestra_api"]["status"] == "APPROVED"
        and app.runtime.specs["orchestra_api"]["sequence"] == 1
    ), "same definition: the approval stands"
    assert app.manifest["version"]["name"] == "v2_0"
    v2_load_all = app.resolve("core.load_all", 0)
    assert v2_load_all is not v1_load_all and v2_load_all.in_setup
    task = app.runtime.tasks["config.load_all_task"]
    assert task["state"] == "started" and task["schedule"] == "USING CRON 0 * * * * UTC"
    calm_sim.advance(3_600_000)
    run = app.fire_task()
    assert run["state"] == "SUCCEEDED", run
    assert run["result"]["status"] == "SUCCEEDED"
    history = app.query("SELECT COUNT(*) FROM public.ingestion_history WHERE procedure_name = 'core.load_all'")
    assert history[0][0] == 9, "3 streams x (manual load, task before, task after the upgrade)"


def test_an_upgrade_whose_script_drops_a_routine_breaks_the_schedule_until_it_suspends(
    account: Account, calm_sim: Simulator, tmp_path: Path
) -> None:
    """The failure the issue describes, reproduced: the task targets a routine the new version's
    setup script does not create."""
    app = account.install(APP)
    admin = configure(app, calm_sim)
    admin.execute("CALL core.enable_schedule('0 * * * *')")

    def without_load_all(script: str) -> str:
        start = script.index("  EXECUTE IMMEDIATE 'CREATE OR REPLACE PROCEDURE core.load_all()")
        end = script.index("TO APPLICATION ROLE app_admin;", start) + len("TO APPLICATION ROLE app_admin;")
        return script[:start] + script[end:]

    account.upgrade(APP, second_version(tmp_path, without_load_all))
    runs = [app.fire_task() for _ in range(10)]
    assert all(r["state"] == "FAILED" and "CORE.LOAD_ALL" in r["error"] for r in runs)
    assert app.runtime.tasks["config.load_all_task"]["state"] == "suspended"
    with pytest.raises(Error, match="suspended"):
        app.fire_task()


def test_uninstall_needs_cascade_because_the_app_owns_its_integration(account: Account) -> None:
    account.install(APP)
    eai = egress.eai_name(APP).strip('"')
    with pytest.raises(Error, match=f"owns objects outside itself.*{eai}.*CASCADE"):
        account.drop(APP)
    assert APP in account.apps and eai in account.integrations
    account.drop(APP, cascade=True)
    assert APP not in account.apps and eai not in account.integrations
    account.install(APP)  # and it can be installed again


@pytest.mark.parametrize("zone", ["UTC", "America/Los_Angeles"])
def test_stored_times_do_not_depend_on_the_session_timezone(zone: str, calm_sim: Simulator) -> None:
    account = Account(timezone=zone)
    try:
        app = account.install(APP)
        admin = configure(app, calm_sim)
        admin.execute("CALL core.load_pipeline_runs()")
        rows = app.query("SELECT id, created_at, loaded_at FROM public.pipeline_runs")
        truth = {
            r["id"]: datetime.fromisoformat(r["createdAt"].replace("Z", "+00:00"))
            for r in calm_sim.truth("pipeline_runs")
        }
        assert rows and all(created.astimezone(UTC) == truth[rid] for rid, created, _ in rows)
        now = datetime.now(UTC)
        assert all(abs((loaded.astimezone(UTC) - now).total_seconds()) < 600 for _, _, loaded in rows)
        state, cursor = app.query(
            "SELECT state:cursor::VARCHAR, cursor FROM config.sync_state WHERE stream = 'pipeline_runs'"
        )[0]
        assert cursor.astimezone(UTC) == datetime.fromisoformat(state.replace("Z", "+00:00"))
    finally:
        account.close()


def test_a_naive_time_written_by_sql_would_shift_with_the_timezone() -> None:
    """The negative case the test above guards against: the stand-in does model the session time
    zone, so a value written without an offset lands 8 hours apart in Los Angeles."""
    instants = {}
    for zone in ("UTC", "America/Los_Angeles"):
        account = Account(timezone=zone)
        try:
            app = account.create(APP)
            app.query("CREATE TABLE public.t (moment TIMESTAMP_TZ)")
            app.query("INSERT INTO public.t VALUES ('2026-01-01 00:00:00')")
            instants[zone] = app.query("SELECT moment FROM public.t")[0][0].astimezone(UTC)
        finally:
            account.close()
    assert (instants["America/Los_Angeles"] - instants["UTC"]).total_seconds() == 8 * 3600
