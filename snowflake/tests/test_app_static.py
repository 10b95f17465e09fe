"""Static checks of the app (issue test 5): manifest, setup-script and egress invariants, handler
imports from the shipped zip, and `snow app bundle` (snowflake-cli from PyPI) without a connection."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import sqlglot
import yaml
from orchestra_app import egress
from support.fake_snowflake import APP_DIR, FakeSnowflake, run_setup_script, split_statements

SNOWFLAKE_DIR = APP_DIR.parent
SUPPORTED_RUNTIMES = {"3.10", "3.11", "3.12", "3.13"}  # Snowflake's Python UDF/procedure runtimes
EXPECTED_PRIVILEGES = {"CREATE EXTERNAL ACCESS INTEGRATION", "EXECUTE TASK", "EXECUTE MANAGED TASK"}


def setup_statements() -> list[str]:
    """The setup script with EXECUTE IMMEDIATE FROM files inlined, then the egress DDL that its
    CALL core.create_eai_objects() runs: everything an install executes, in order."""
    out: list[str] = []
    for statement in split_statements((APP_DIR / "setup_script.sql").read_text()):
        m = re.match(r"EXECUTE\s+IMMEDIATE\s+FROM\s+'([^']+)'", statement, re.I)
        if m:
            out += split_statements((APP_DIR / m.group(1)).read_text())
        elif "CALL core.create_eai_objects()" in statement:
            out += egress.statements("ORCHESTRA_DATA_APP")
        else:
            out.append(statement)
    return out


def routines(statements: list[str]) -> list[tuple[int, str, str, str]]:
    """(index, PROCEDURE|FUNCTION, name, argument types) of every routine created."""
    found = []
    for i, s in enumerate(statements):
        m = re.match(r"CREATE\s+OR\s+REPLACE\s+(PROCEDURE|FUNCTION)\s+([\w.]+)\(([^)]*)\)", s, re.I)
        if m:
            types = [re.split(r"\s+", a.strip())[1].upper() for a in m.group(3).split(",") if a.strip()]
            found.append((i, m.group(1).upper(), m.group(2).lower(), ", ".join(types)))
    return found


def test_manifest_is_version_2_and_requests_only_what_the_app_uses_each_with_a_description() -> None:
    manifest = yaml.safe_load((APP_DIR / "manifest.yml").read_text())
    assert manifest["manifest_version"] == 2
    privileges = {name: body for p in manifest["privileges"] for name, body in p.items()}
    assert set(privileges) == EXPECTED_PRIVILEGES
    assert all(len(body["description"]) > 20 for body in privileges.values())
    assert (APP_DIR / manifest["artifacts"]["setup_script"]).exists()
    assert (APP_DIR / manifest["artifacts"]["readme"]).exists()


def test_every_statement_is_well_formed_snowflake_sql() -> None:
    for statement in setup_statements():
        tokens = sqlglot.tokenize(statement, read="snowflake")  # raises on an unterminated string
        assert tokens, statement
        assert statement.count("'") % 2 == 0 or "$$" in statement, f"unbalanced quotes: {statement[:120]}"


def test_the_setup_script_creates_egress_objects_even_when_the_python_step_cannot_run() -> None:
    script = split_statements((APP_DIR / "setup_script.sql").read_text())
    static = [" ".join(s.split()) for s in script if "NETWORK RULE" in s.upper() or "SET SPECIFICATION" in s.upper()]
    assert len(static) == 3, "rule and specification must not depend on a Python procedure"
    # The same statements as core.create_eai_objects() runs: one definition, no drift.
    assert static == [" ".join(s.split()) for s in egress.statements("X")[:2]] + [
        " ".join(s.split()) for s in egress.statements("X") if "SET SPECIFICATION" in s
    ]
    block = next(s for s in script if "CALL core.create_eai_objects()" in s)
    assert block.startswith("EXECUTE IMMEDIATE $$") and "EXCEPTION" in block and "WHEN OTHER" in block


def test_data_and_state_are_only_ever_created_if_not_exists_and_nothing_is_dropped() -> None:
    for s in setup_statements():
        upper = " ".join(s.upper().split())
        assert not upper.startswith("DROP"), s
        if re.match(r"CREATE (OR REPLACE )?(TABLE|SCHEMA|SECRET|TASK|NETWORK RULE|EXTERNAL ACCESS)", upper):
            assert "IF NOT EXISTS" in upper, f"would replace data or state on upgrade: {s[:80]}"
        if upper.startswith("CREATE OR REPLACE"):
            target = re.match(r"CREATE OR REPLACE (\w+)", upper).group(1)
            assert target in ("PROCEDURE", "FUNCTION", "VIEW"), s[:80]
            if target in ("PROCEDURE", "FUNCTION"):
                assert " CORE." in upper, f"code belongs in the versioned schema core: {s[:80]}"
    assert any(s.upper().startswith("CREATE OR ALTER VERSIONED SCHEMA CORE") for s in setup_statements())


def test_every_procedure_and_function_is_followed_by_its_grant() -> None:
    statements = setup_statements()
    found = routines(statements)
    assert len(found) >= 16
    for i, kind, name, types in found:
        grant = " ".join(statements[i + 1].split())
        assert grant.upper() == f"GRANT USAGE ON {kind} {name.upper()}({types}) TO APPLICATION ROLE APP_ADMIN", (
            f"{name}({types}) is not followed by its grant: {grant!r}"
        )


def test_the_viewer_role_gets_read_access_only_and_nothing_that_reaches_the_network() -> None:
    statements = setup_statements()
    read_only = re.compile(
        r"GRANT (SELECT ON (TABLE|VIEW) PUBLIC\.\w+|USAGE ON SCHEMA PUBLIC) TO APPLICATION ROLE APP_VIEWER$"
    )
    for s in statements:
        flat = " ".join(s.split()).upper()
        if flat.startswith("GRANT") and flat.endswith("APP_VIEWER"):
            assert read_only.match(flat), f"app_viewer must only read: {flat}"
    egress_bound = [s for s in statements if "EXTERNAL_ACCESS_INTEGRATIONS" in s.upper()]
    assert len(egress_bound) == len(egress.FUNCTIONS) + len(egress.PROCEDURES)
    for i, kind, name, _types in routines(statements):
        if "EXTERNAL_ACCESS_INTEGRATIONS" in statements[i].upper():
            grants = [g for g in statements if re.match(rf"GRANT .* ON {kind} {re.escape(name)}\(", g, re.I)]
            assert all(g.upper().endswith("APP_ADMIN") for g in grants), grants


def test_the_app_specification_asks_for_exactly_the_hosts_the_network_rule_allows() -> None:
    statements = setup_statements()
    rules = [re.search(r"VALUE_LIST\s*=\s*\(([^)]*)\)", s, re.I).group(1) for s in statements if "NETWORK RULE" in s]
    specs = [re.search(r"HOST_PORTS\s*=\s*\(([^)]*)\)", s, re.I).group(1) for s in statements
             if s.upper().startswith("ALTER APPLICATION SET SPECIFICATION")]
    spec_sql = {" ".join(s.split()) for s in statements if s.upper().startswith("ALTER APPLICATION")}
    assert len(spec_sql) == 1, f"the setup script and create_eai_objects must request the same spec: {spec_sql}"
    assert "TYPE = EXTERNAL_ACCESS" in next(iter(spec_sql)) and len(specs) == 2
    hosts = {frozenset(h.strip().strip("'") for h in x.split(",")) for x in rules + specs}
    assert hosts == {frozenset({"app.getorchestra.io:443"})}


def test_the_eai_allows_only_the_rule_and_the_apps_secret_and_is_named_per_install() -> None:
    statements = egress.statements("My App")
    eai = next(s for s in statements if s.startswith("CREATE EXTERNAL ACCESS INTEGRATION"))
    assert '"MY APP_ORCHESTRA_EAI"' in eai
    assert "ALLOWED_NETWORK_RULES = (config.orchestra_api_rule)" in eai
    assert "ALLOWED_AUTHENTICATION_SECRETS = (config.orchestra_api_key)" in eai


def test_every_python_routine_uses_a_supported_runtime_and_a_handler_that_imports_from_the_zip(
    tmp_path: Path,
) -> None:
    statements = setup_statements()
    handlers = set()
    for s in statements:
        if re.search(r"LANGUAGE\s+PYTHON", s, re.I):
            assert re.search(r"RUNTIME_VERSION\s*=\s*'([\d.]+)'", s).group(1) in SUPPORTED_RUNTIMES
            assert "IMPORTS = ('/python/orchestra_app.zip')" in s
            handlers.add(re.search(r"HANDLER\s*=\s*'([\w.]+)'", s).group(1))
    assert len(handlers) >= 14
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
    out = subprocess.run([sys.executable, "-c", probe, str(zip_path), *sorted(handlers)], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
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


def test_installing_in_fakesnow_creates_every_routine_the_readme_names(app: FakeSnowflake) -> None:
    names = {sig.split("(")[0] for sig in app.runtime.routines}
    assert {f"core.{n}" for n in ("get_pipeline_runs", "get_task_runs", "get_operations", "load_pipeline_runs",
                                  "load_task_runs", "load_operations", "load_all", "create_eai_objects",
                                  "set_api_key", "test_connection", "enable_schedule", "disable_schedule")} <= names
    assert app.runtime.specs["orchestra_api"]["status"] == "PENDING"
    assert app.runtime.tasks["config.load_all_task"]["state"] == "suspended"


def test_upgrading_keeps_an_approved_specification_approved(app: FakeSnowflake) -> None:
    app.runtime.approve_all()
    run_setup_script(app.session)
    assert app.runtime.specs["orchestra_api"]["status"] == "APPROVED"


def test_snow_app_bundle_builds_the_package_without_a_connection(tmp_path: Path) -> None:
    project = tmp_path / "snowflake"
    shutil.copytree(SNOWFLAKE_DIR, project, ignore=shutil.ignore_patterns("tests", "__pycache__", "output"))
    # The `snow` entry point of snowflake-cli (requirements-dev.txt), or the same module run directly.
    snow = [shutil.which("snow")] if shutil.which("snow") else [sys.executable, "-m", "snowflake.cli._app"]
    out = subprocess.run([*snow, "app", "bundle", "--project", str(project)], capture_output=True, text=True,
                         timeout=300, cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    deploy = project / "output" / "deploy"
    assert yaml.safe_load((deploy / "manifest.yml").read_text())["manifest_version"] == 2
    setup = (deploy / "setup_script.sql").read_text()
    for path in re.findall(r"EXECUTE\s+IMMEDIATE\s+FROM\s+'([^']+)'", setup):
        assert (deploy / path).resolve().exists(), f"{path} is not in the bundle"
    for path in set(re.findall(r"IMPORTS = \('(/[^']+)'\)", setup + "\n".join(egress.statements("X")))):
        assert (deploy / path.lstrip("/")).exists(), f"{path} is not in the bundle"
    assert (deploy / "README.md").read_text().startswith("# ")
