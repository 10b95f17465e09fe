"""Static checks of the app: manifest, setup-script and egress invariants (read from the script and
from an install on the stand-in account), handler imports from the shipped zip, and `snow app
bundle` (snowflake-cli from PyPI) without a connection."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlglot
import yaml
from orchestra_app import egress
from support.account import Account, InstalledApp
from support.fake_snowflake import APP_DIR, split_statements

SNOWFLAKE_DIR = APP_DIR.parent
SUPPORTED_RUNTIMES = {"3.10", "3.11", "3.12", "3.13"}  # Snowflake's Python UDF/procedure runtimes
EXPECTED_PRIVILEGES = {"CREATE EXTERNAL ACCESS INTEGRATION", "EXECUTE TASK", "EXECUTE MANAGED TASK"}


def setup_statements() -> list[str]:
    """The setup script with EXECUTE IMMEDIATE FROM files inlined: what an install executes, in order
    (the statements inside its Snowflake Scripting blocks run through the stand-in in other tests)."""
    out: list[str] = []
    for statement in split_statements((APP_DIR / "setup_script.sql").read_text()):
        m = re.match(r"EXECUTE\s+IMMEDIATE\s+FROM\s+'([^']+)'", statement, re.I)
        out += split_statements((APP_DIR / m.group(1)).read_text()) if m else [statement]
    return out


@pytest.fixture(scope="module")
def installed() -> Iterator[InstalledApp]:
    account = Account()
    yield account.install("ORCHESTRA_DATA_APP")
    account.close()


def test_manifest_is_version_2_and_requests_only_what_the_app_uses_each_with_a_description() -> None:
    manifest = yaml.safe_load((APP_DIR / "manifest.yml").read_text())
    assert manifest["manifest_version"] == 2
    privileges = {name: body for p in manifest["privileges"] for name, body in p.items()}
    assert set(privileges) == EXPECTED_PRIVILEGES
    assert all(len(body["description"]) > 20 for body in privileges.values())
    assert (APP_DIR / manifest["artifacts"]["setup_script"]).exists()
    assert (APP_DIR / manifest["artifacts"]["readme"]).exists()
    assert manifest["artifacts"]["extension_code"] is True, "the handlers are Python"


def test_the_lifecycle_callback_is_a_sql_procedure_the_setup_script_creates(installed: InstalledApp) -> None:
    manifest = yaml.safe_load((APP_DIR / "manifest.yml").read_text())
    callback = manifest["lifecycle_callbacks"]["after_specification_change"]
    routine = installed.resolve(callback, 1)
    assert routine.language == "SQL" and routine.in_setup and not routine.caller_rights


def test_every_statement_is_well_formed_snowflake_sql() -> None:
    for statement in setup_statements():
        tokens = sqlglot.tokenize(statement, read="snowflake")  # raises on an unterminated string
        assert tokens, statement
        assert statement.count("'") % 2 == 0 or "$$" in statement, f"unbalanced quotes: {statement[:120]}"


def test_the_setup_script_calls_only_sql_procedures_and_nothing_creates_routines_at_run_time(
    installed: InstalledApp,
) -> None:
    calls = [re.match(r"CALL\s+([\w.]+)", s, re.I).group(1) for s in setup_statements() if s.upper().startswith("CALL")]
    assert calls == ["core.create_eai_objects"]
    assert all(installed.resolve(c, 0).language == "SQL" for c in calls)
    for source in (APP_DIR / "python" / "orchestra_app").glob("*.py"):
        text = source.read_text()
        assert not re.search(r"CREATE\s+(OR\s+REPLACE\s+)?(PROCEDURE|FUNCTION)", text, re.I), source.name
        assert "EXTERNAL ACCESS INTEGRATION" not in text.upper(), source.name
    assert all(r.in_setup for rs in installed.routines.values() for r in rs)


def test_data_and_state_are_only_ever_created_if_not_exists_and_nothing_is_dropped() -> None:
    for s in setup_statements():
        upper = " ".join(s.upper().split())
        assert not upper.startswith("DROP"), s
        if re.match(r"CREATE (OR REPLACE )?(TABLE|SCHEMA|SECRET|TASK|NETWORK RULE|EXTERNAL ACCESS)", upper):
            assert "IF NOT EXISTS" in upper, f"would replace data or state on upgrade: {s[:80]}"
        if upper.startswith("CREATE OR REPLACE"):
            target = re.match(r"CREATE OR REPLACE (\w+)", upper).group(1)
            assert target in ("PROCEDURE", "FUNCTION", "VIEW", "STREAMLIT"), s[:80]
            # Code belongs in the versioned schema core. The one exception is the SQL procedure that
            # the portable analytics script defines beside its views (Airbyte users run it in a
            # schema of their own); no package code, re-created by every version's setup script.
            if target in ("PROCEDURE", "FUNCTION") and "ANALYTICS.SET_PIPELINE_SLA(" not in upper:
                assert " CORE." in upper, f"code belongs in the versioned schema core: {s[:80]}"
    assert any(s.upper().startswith("CREATE OR ALTER VERSIONED SCHEMA CORE") for s in setup_statements())


def test_every_routine_but_the_callback_is_granted_to_app_admin_and_none_to_app_viewer(
    installed: InstalledApp,
) -> None:
    names = set(installed.routines)
    assert len(names) >= 14
    for name in names - {"core.on_specification_change"}:
        assert installed.can("app_admin", "USAGE", ("PROCEDURE", "FUNCTION"), name), name
        assert not installed.can("app_viewer", "USAGE", ("PROCEDURE", "FUNCTION"), name), name
    assert not installed.can("app_admin", "USAGE", ("PROCEDURE",), "core.on_specification_change")


def test_the_viewer_role_gets_read_access_only() -> None:
    read_only = re.compile(
        r"GRANT (SELECT ON (TABLE|VIEW) (PUBLIC|ANALYTICS)\.\w+|USAGE ON SCHEMA (PUBLIC|ANALYTICS|CORE)"
        r"|USAGE ON STREAMLIT CORE\.DASHBOARD) TO APPLICATION ROLE APP_VIEWER$"
    )
    for s in setup_statements():
        flat = " ".join(s.split()).upper()
        if flat.startswith("GRANT") and flat.endswith("APP_VIEWER"):
            assert read_only.match(flat), f"app_viewer must only read: {flat}"


def test_the_app_specification_asks_for_exactly_the_hosts_the_network_rule_allows(installed: InstalledApp) -> None:
    rules = {h.strip().strip("'") for h in installed.runtime.network_rules[egress.RULE].split(",")}
    assert rules == {egress.HOST_PORT}
    spec = installed.runtime.specs[egress.SPEC_NAME]
    assert set(spec["hosts"]) == rules and spec["label"] == egress.SPEC_LABEL
    text = (APP_DIR / "setup_script.sql").read_text()
    assert set(re.findall(r"(?:VALUE_LIST|HOST_PORTS) = \('([^']+)'\)", text)) == {egress.HOST_PORT}


def test_the_integration_allows_only_the_rule_and_the_apps_secret_and_is_named_per_install(
    installed: InstalledApp,
) -> None:
    eai = installed.account.integrations[egress.eai_name(installed.name).strip('"')]
    assert eai.owner == installed.name and eai.enabled
    assert eai.rules == [egress.RULE] and eai.secrets == [egress.SECRET]
    assert egress.eai_name('My "App"') == '"My ""App""_ORCHESTRA_EAI"'


def test_every_python_routine_uses_a_supported_runtime_and_a_handler_that_imports_from_the_zip(
    tmp_path: Path, installed: InstalledApp
) -> None:
    handlers = set()
    for routines in installed.routines.values():
        for routine in routines:
            if routine.language == "PYTHON":
                assert re.search(r"RUNTIME_VERSION\s*=\s*'([\d.]+)'", routine.sql).group(1) in SUPPORTED_RUNTIMES
                assert "IMPORTS = ('/python/orchestra_app.zip')" in routine.sql
                handlers.add(routine.handler)
    assert len(handlers) >= 13
    zip_path = APP_DIR / "python" / "orchestra_app.zip"
    assert "orchestra_app/handlers.py" in zipfile.ZipFile(zip_path).namelist()
    # Import every handler from the zip alone, as Snowflake does (the zip on sys.path, nothing else).
    probe = (
        "import sys, importlib; sys.path.insert(0, sys.argv[1])\n"
        "for h in sys.argv[2:]:\n"
        "    mod, fn = h.rsplit('.', 1); m = importlib.import_module(mod)\n"
        "    assert callable(getattr(m, fn)), h\n"
        "    assert m.__file__.startswith(sys.argv[1]), m.__file__\n"
        "print('ok')"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, str(zip_path), *sorted(handlers)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.stdout.strip() == "ok", out.stderr


def test_the_schedule_task_is_serverless_created_suspended_and_runs_load_all() -> None:
    statements = setup_statements()
    task = next(s for s in statements if s.upper().startswith("CREATE TASK"))
    assert "WAREHOUSE =" not in task.upper() and "USER_TASK_MANAGED_INITIAL_WAREHOUSE_SIZE" in task
    assert task.rstrip().endswith("AS CALL core.load_all()")
    assert not any("RESUME" in s.upper() for s in statements)


def test_the_secret_is_a_generic_string_owned_by_the_app_and_no_sql_returns_it() -> None:
    statements = setup_statements()
    secret = next(s for s in statements if "CREATE SECRET" in s.upper())
    assert "TYPE = GENERIC_STRING" in secret and "IF NOT EXISTS config.orchestra_api_key" in secret
    assert not any(re.search(r"GRANT .* ON SECRET", s, re.I) for s in statements)


def test_snow_app_bundle_builds_the_package_without_a_connection(tmp_path: Path) -> None:
    project = tmp_path / "snowflake"
    shutil.copytree(SNOWFLAKE_DIR, project, ignore=shutil.ignore_patterns("tests", "__pycache__", "output"))
    # The `snow` entry point of snowflake-cli (requirements-dev.txt), or the same module run directly.
    snow = [shutil.which("snow")] if shutil.which("snow") else [sys.executable, "-m", "snowflake.cli._app"]
    out = subprocess.run(
        [*snow, "app", "bundle", "--project", str(project)], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert out.returncode == 0, out.stdout + out.stderr
    deploy = project / "output" / "deploy"
    assert yaml.safe_load((deploy / "manifest.yml").read_text())["manifest_version"] == 2
    setup = (deploy / "setup_script.sql").read_text()
    for path in re.findall(r"EXECUTE\s+IMMEDIATE\s+FROM\s+'([^']+)'", setup):
        assert (deploy / path).resolve().exists(), f"{path} is not in the bundle"
    for path in set(re.findall(r"IMPORTS = \(''?(/[^']+)''?\)", setup)):
        assert (deploy / path.lstrip("/")).exists(), f"{path} is not in the bundle"
    assert (deploy / "README.md").read_text().startswith("# ")
