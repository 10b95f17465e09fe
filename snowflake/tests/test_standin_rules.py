"""Each rule the stand-in account enforces (support/account/), proven by breaking it on purpose.
The sources for the rules are in docs/snowflake-app.md."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
import snowflake.connector
from orchestra_app import egress
from support.account import Account, InstalledApp, copy_package
from support.scripting import Interpreter, ScriptingError
from support.simulator import Simulator

APP = "ORCHESTRA_DATA_APP"
Error = snowflake.connector.errors.ProgrammingError
ROUTINE_OPTIONS = (
    "RETURNS VARIANT LANGUAGE PYTHON RUNTIME_VERSION = '3.11' PACKAGES = ('snowflake-snowpark-python', 'requests') "
    "IMPORTS = ('/python/orchestra_app.zip') HANDLER = 'orchestra_app.handlers.test_connection'"
)


def package(
    tmp_path: Path, edit: Callable[[str], str] | None = None, manifest: Callable[[str], str] | None = None
) -> Path:
    return copy_package(tmp_path / "pkg", edit, manifest)


def keyed(app: InstalledApp, sim: Simulator) -> None:
    admin = app.as_role("app_admin")
    admin.execute(f"CALL core.set_api_key('{sim.api_key}')")
    admin.execute(f"CALL core.set_setting('api_url', '{sim.base_url}')")
    admin.execute("CALL core.set_setting('retry_budget_seconds', '0')")


# -- the setup script runs SQL only -----------------------------------------------------------


def test_a_setup_script_may_call_a_sql_procedure_but_not_a_python_one(account: Account, tmp_path: Path) -> None:
    assert any(s.startswith("CALL core.create_eai_objects()") for s in account.install(APP).session.statements)
    broken = package(tmp_path, lambda s: s + "\nCALL core.set_setting('lookback_hours', '4');\n")
    with pytest.raises(Error, match=r"setup script may run SQL only: CALL core.set_setting\(\) would run a PYTHON"):
        account.install("SECOND_APP", broken)


def test_a_setup_script_may_not_use_use_statements(account: Account, tmp_path: Path) -> None:
    with pytest.raises(Error, match="USE SCHEMA is not allowed in a setup script"):
        account.install(APP, package(tmp_path, lambda s: "USE SCHEMA public;\n" + s))


# -- versioned schemas ------------------------------------------------------------------------


def test_a_routine_created_at_run_time_in_core_vanishes_at_the_next_upgrade(account: Account, tmp_path: Path) -> None:
    app = account.install(APP)
    app.query(
        "CREATE OR REPLACE PROCEDURE core.made_at_run_time() RETURNS VARCHAR LANGUAGE SQL EXECUTE AS OWNER "
        "AS $$ BEGIN RETURN 'here'; END; $$"
    )
    assert app.query("CALL core.made_at_run_time()")[0][0] == "here"
    account.upgrade(APP, package(tmp_path))
    with pytest.raises(Error, match="Unknown user-defined procedure CORE.MADE_AT_RUN_TIME"):
        app.query("CALL core.made_at_run_time()")
    assert app.query("CALL core.create_eai_objects()")  # what the script creates is back


def test_only_the_setup_script_creates_a_versioned_schema_and_tasks_never_live_in_one(account: Account) -> None:
    app = account.install(APP)
    with pytest.raises(Error, match="only be created or altered by the setup script"):
        app.query("CREATE OR ALTER VERSIONED SCHEMA extra")
    with pytest.raises(Error, match="Tasks are not supported in a versioned schema"):
        app.query("CREATE TASK core.t SCHEDULE = '1 MINUTE' AS CALL core.load_all()")
    with pytest.raises(Error, match="Dropping a versioned schema is not supported"):
        app.query("DROP SCHEMA core")


# -- integrations, secrets, approval ----------------------------------------------------------


def test_a_routine_can_bind_only_an_integration_that_exists(account: Account) -> None:
    app = account.install(APP)
    with pytest.raises(Error, match="Integration 'NO_SUCH_EAI' does not exist or not authorized"):
        app.query(
            f"CREATE OR REPLACE PROCEDURE core.x() {ROUTINE_OPTIONS} EXTERNAL_ACCESS_INTEGRATIONS = (no_such_eai)"
        )
    eai = egress.eai_name(APP)
    app.query(f"CREATE OR REPLACE PROCEDURE core.x() {ROUTINE_OPTIONS} EXTERNAL_ACCESS_INTEGRATIONS = ({eai})")
    with pytest.raises(Error, match="not allowed by the routine's external access integrations"):
        app.query("CREATE SECRET IF NOT EXISTS config.other TYPE = GENERIC_STRING SECRET_STRING = 'x'")
        app.query(
            f"CREATE OR REPLACE PROCEDURE core.y() {ROUTINE_OPTIONS} EXTERNAL_ACCESS_INTEGRATIONS = ({eai}) "
            "SECRETS = ('other' = config.other)"
        )


def test_before_approval_network_calls_fail_naming_the_specification_and_reach_nothing(
    account: Account, calm_sim: Simulator
) -> None:
    app = account.install(APP)
    keyed(app, calm_sim)
    admin = app.as_role("app_admin")
    before = len(calm_sim.control("GET", "/_sim/requests?limit=5000"))
    with pytest.raises(Exception, match=r"network error.*app specification for .* was approved"):
        admin.execute("CALL core.test_connection()")
    assert len(calm_sim.control("GET", "/_sim/requests?limit=5000")) == before, "nothing left the account"
    account.approve(APP)
    assert admin.execute("CALL core.test_connection()")[0][0]["ok"] is True
    assert len(calm_sim.control("GET", "/_sim/requests?limit=5000")) > before


def test_a_routine_without_the_integration_reaches_nothing_even_once_approved(
    account: Account, calm_sim: Simulator
) -> None:
    app = account.install(APP)
    keyed(app, calm_sim)
    account.approve(APP)
    eai = egress.eai_name(APP)
    app.query(f"CREATE OR REPLACE PROCEDURE core.unbound() {ROUTINE_OPTIONS} EXTERNAL_ACCESS_INTEGRATIONS = ({eai})")
    app.query(f"CREATE OR REPLACE PROCEDURE core.no_eai() {ROUTINE_OPTIONS}")
    with pytest.raises(Exception, match=r"No Orchestra API key is set"):  # no SECRETS: no key either
        app.query("CALL core.unbound()")
    with pytest.raises(Exception, match=r"No Orchestra API key is set"):
        app.query("CALL core.no_eai()")


def test_a_handler_can_use_write_pandas_only_when_its_procedure_lists_pandas(
    account: Account, calm_sim: Simulator, tmp_path: Path
) -> None:
    without = package(tmp_path, lambda sql: sql.replace(", ''pandas''", ""))
    app = account.install(APP, without)
    keyed(app, calm_sim)
    account.approve(APP)
    with pytest.raises(Exception, match=r"No module named 'pandas'.*core.load_operations"):
        app.as_role("app_admin").execute("CALL core.load_operations()")


def test_the_dashboard_must_come_from_the_package_and_be_the_object_the_manifest_names(
    account: Account, tmp_path: Path
) -> None:
    missing_file = package(tmp_path, lambda sql: sql.replace("'/dashboard.py'", "'/main.py'"))
    with pytest.raises(Error, match=r"/streamlit/main.py is not in the application package"):
        account.install(APP, missing_file)
    renamed = lambda m: m.replace("streamlit: core.dashboard", "streamlit: core.ui")  # noqa: E731
    other = copy_package(tmp_path / "other", manifest=renamed)
    with pytest.raises(Error, match=r"default_streamlit core.ui: the setup script did not create"):
        account.install("OTHER_APP", other)


def test_a_new_host_in_an_upgrade_needs_a_new_approval(account: Account, tmp_path: Path) -> None:
    app = account.install(APP)
    with pytest.raises(Error, match="Sequence number 2 is not the current one"):
        account.approve(APP, sequence_number=2)
    account.approve(APP, sequence_number=1)
    account.upgrade(
        APP,
        package(
            tmp_path,
            lambda s: s.replace("'app.getorchestra.io:443'", "'app.getorchestra.io:443', 'eu.getorchestra.io:443'"),
        ),
    )
    spec = app.runtime.specs["orchestra_api"]
    assert (spec["status"], spec["sequence"]) == ("PENDING", 2)


def test_an_app_without_the_privilege_in_its_manifest_cannot_create_an_integration(
    account: Account, tmp_path: Path
) -> None:
    def drop_privilege(text: str) -> str:
        return re.sub(r"  - CREATE EXTERNAL ACCESS INTEGRATION:\n.*\n", "", text)

    with pytest.raises(Error, match="does not request CREATE EXTERNAL ACCESS INTEGRATION"):
        account.install(APP, package(tmp_path, manifest=drop_privilege))


# -- two installs in one account ---------------------------------------------------------------


def test_two_installs_in_one_account_each_get_their_own_integration(account: Account, tmp_path: Path) -> None:
    first, second = account.install("ORCHESTRA_A"), account.install("ORCHESTRA_B")
    assert {i.owner for i in account.integrations.values()} == {"ORCHESTRA_A", "ORCHESTRA_B"}
    assert first.resolve("core.load_all", 0).integrations != second.resolve("core.load_all", 0).integrations
    # Broken on purpose: one fixed name. The second install finds the first app's integration,
    # which it may not use.
    fixed = package(
        tmp_path,
        lambda s: s.replace(
            "'\"' || REPLACE(CURRENT_DATABASE(), '\"', '\"\"') || '_ORCHESTRA_EAI\"'", "'ORCHESTRA_EAI'"
        ),
    )
    account.install("FIXED_A", fixed)
    with pytest.raises(Error, match="Integration 'ORCHESTRA_EAI' does not exist or not authorized"):
        account.install("FIXED_B", fixed)


# -- application roles -------------------------------------------------------------------------


def viewer_callable(app: InstalledApp) -> set[str]:
    return {name for name in app.routines if app.can("app_viewer", "USAGE", ("PROCEDURE", "FUNCTION"), name)}


def test_app_viewer_reads_the_tables_and_calls_nothing(account: Account) -> None:
    app = account.install(APP)
    viewer, admin = app.as_role("app_viewer"), app.as_role("app_admin")
    for table in (
        "public.pipeline_runs",
        "public.task_runs",
        "public.operations",
        "public.ingestion_history",
        "public.sync_status",
    ):
        viewer.execute(f"SELECT COUNT(*) FROM {table}")
    assert viewer_callable(app) == set()
    for name, routines in app.routines.items():
        for routine in routines:
            if routine.kind == "PROCEDURE" and routine.required == 0:
                with pytest.raises(Error, match="Insufficient privileges|does not exist or not authorized"):
                    viewer.execute(f"CALL {name}()")
    # app_viewer may use schema core (to open the dashboard), but no routine in it.
    with pytest.raises(Error, match="Insufficient privileges to operate on function 'CORE.GET_PIPELINE_RUNS'"):
        viewer.execute("SELECT core.get_pipeline_runs()")
    with pytest.raises(Error, match="does not exist or not authorized"):
        viewer.execute("SELECT * FROM config.settings")
    with pytest.raises(Error, match="Insufficient privileges"):
        viewer.execute("DELETE FROM public.pipeline_runs")
    with pytest.raises(Error, match="Insufficient privileges"):
        admin.execute("INSERT INTO config.settings (name, value) VALUES ('a', 'b')")
    assert "Still to do" in admin.execute("CALL core.create_eai_objects()")[0][0]


def test_a_grant_to_app_viewer_is_what_lets_it_call(account: Account, tmp_path: Path) -> None:
    """Broken on purpose: the check follows the grants, so a wrong grant in the script shows."""
    leaky = package(
        tmp_path,
        lambda s: s + "\nGRANT USAGE ON PROCEDURE core.create_eai_objects() TO APPLICATION ROLE "
        "app_viewer;\nGRANT USAGE ON SCHEMA core TO APPLICATION ROLE app_viewer;\n",
    )
    app = account.install(APP, leaky)
    assert viewer_callable(app) == {"core.create_eai_objects"}
    assert app.as_role("app_viewer").execute("CALL core.create_eai_objects()")


# -- the Scripting interpreter refuses what it does not model ----------------------------------


@pytest.mark.parametrize(
    "block",
    [
        "BEGIN SELECT 1; EXCEPTION WHEN OTHER THEN RETURN 'x'; END",
        "BEGIN FOR i IN 1 TO 3 DO SELECT 1; END FOR; END",
        "DECLARE c CURSOR FOR SELECT 1; BEGIN RETURN 1; END",
        "SELECT 1",
    ],
)
def test_the_scripting_interpreter_refuses_constructs_it_does_not_model(account: Account, block: str) -> None:
    app = account.install(APP)
    with pytest.raises(ScriptingError):
        Interpreter(app.session.execute).execute_block(block)


def test_the_scripting_interpreter_binds_variables_branches_and_returns(account: Account) -> None:
    app = account.create(APP)
    block = """DECLARE n NUMBER DEFAULT 2; s VARCHAR DEFAULT 'it''s';
BEGIN
  LET doubled NUMBER := n * 2;
  IF (doubled > 3) THEN
    s := s || ' big';
  ELSE
    s := s || ' small';
  END IF;
  SELECT COUNT(*) INTO :n FROM VALUES (1), (2), (3);
  RETURN s || ' ' || n || ' ' || CURRENT_DATABASE();
END"""
    assert Interpreter(app.session.execute).execute_block(block) == f"it's big 3 {APP}"
