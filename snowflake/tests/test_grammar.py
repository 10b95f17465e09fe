"""The grammar check (support/grammar/): every statement of the setup script and the files it runs
passes, every statement kind the app uses has a statement it must refuse, and the stand-in runs the
check on every statement (a load's MERGEs included)."""

from __future__ import annotations

from pathlib import Path

import pytest
import snowflake.connector
from orchestra_app.schema import STREAMS
from orchestra_app.store import STAGE_DDL, staged_merge_sql
from support import grammar
from support.fake_snowflake import APP_DIR, FakeSnowflake

SCRIPTS = [APP_DIR / "setup_script.sql", *sorted((APP_DIR / "sql").glob("*.sql"))]


def script_statements() -> list[tuple[str, str]]:
    return [(path.name, s) for path in SCRIPTS for s in grammar.split_script(path.read_text())]


@pytest.mark.parametrize(("script", "statement"), script_statements())
def test_every_statement_of_the_setup_script_and_its_files_follows_snowflakes_grammar(
    script: str, statement: str
) -> None:
    grammar.check(statement)


def test_the_statements_built_by_the_loader_follow_snowflakes_grammar() -> None:
    assert grammar.check(STAGE_DDL) == "CREATE TABLE"
    for stream in STREAMS:
        assert grammar.check(staged_merge_sql(stream)) == "MERGE"


def test_the_setup_script_runs_files_that_exist() -> None:
    for _, statement in script_statements():
        if grammar.statement_kind(statement) == "EXECUTE IMMEDIATE FROM":
            path = statement.split("'")[1]
            assert (APP_DIR / path).resolve().is_file(), path


# (kind the app uses, a statement it writes that way, the same statement broken on purpose)
CASES = [
    ("CREATE APPLICATION ROLE", "CREATE APPLICATION ROLE IF NOT EXISTS app_admin",
     "CREATE APPLICATION ROLE IF NOT EXIST app_admin"),  # misspelled clause
    ("GRANT APPLICATION ROLE", "GRANT APPLICATION ROLE app_viewer TO APPLICATION ROLE app_admin",
     "GRANT APPLICATION ROLE app_viewer TO APPLICATION app_admin ROLE"),  # wrong order
    ("GRANT ... TO APPLICATION ROLE", "GRANT SELECT ON TABLE public.task_runs TO APPLICATION ROLE app_viewer",
     "GRANT SELECT ON PROCEDURE core.load_all() TO APPLICATION ROLE app_viewer"),  # privilege of another kind
    ("CREATE SECRET", "CREATE SECRET IF NOT EXISTS config.k TYPE = GENERIC_STRING SECRET_STRING = 'unset'",
     "CREATE SECRET IF NOT EXISTS config.k TYPE = GENERIC_STRING SECRET_VALUE = 'unset'"),  # wrong option name
    ("ALTER SECRET", "ALTER SECRET config.k SET SECRET_STRING = 'abc'",
     "ALTER SECRET config.k SECRET_STRING = 'abc'"),  # missing SET
    ("CREATE STREAMLIT",
     "CREATE OR REPLACE STREAMLIT core.dashboard FROM '/streamlit' MAIN_FILE = '/dashboard.py'",
     "CREATE OR REPLACE STREAMLIT core.dashboard FROM '/streamlit' MAIN = '/dashboard.py'"),  # MAIN_FILE misspelt
    ("CREATE NETWORK RULE",
     "CREATE NETWORK RULE IF NOT EXISTS config.r TYPE = HOST_PORT MODE = EGRESS VALUE_LIST = ('a.io:443')",
     "CREATE NETWORK RULE IF NOT EXISTS config.r TYPE = HOST_PORT VALUE_LIST = ('a.io:443')"),  # HOST_PORT, no EGRESS
    ("ALTER NETWORK RULE", "ALTER NETWORK RULE config.r SET VALUE_LIST = ('a.io:443')",
     "ALTER NETWORK RULE config.r SET VALUES = ('a.io:443')"),
    ("CREATE EXTERNAL ACCESS INTEGRATION",
     "CREATE EXTERNAL ACCESS INTEGRATION IF NOT EXISTS app_eai ALLOWED_NETWORK_RULES = (config.r) "
     "ALLOWED_AUTHENTICATION_SECRETS = (config.k) ENABLED = TRUE",
     "CREATE EXTERNAL ACCESS INTEGRATION IF NOT EXISTS app_eai ALLOWED_AUTHENTICATION_SECRETS = (config.k) "
     "ENABLED = TRUE"),  # missing required ALLOWED_NETWORK_RULES
    ("ALTER EXTERNAL ACCESS INTEGRATION",
     "ALTER EXTERNAL ACCESS INTEGRATION app_eai SET ALLOWED_NETWORK_RULES = (config.r) ENABLED = TRUE",
     "ALTER EXTERNAL ACCESS INTEGRATION app_eai SET ALLOWED_NETWORK_RULE = (config.r)"),
    ("ALTER APPLICATION SET SPECIFICATION",
     "ALTER APPLICATION SET SPECIFICATION orchestra_api TYPE = EXTERNAL_ACCESS LABEL = 'Orchestra API' "
     "DESCRIPTION = 'HTTPS to Orchestra' HOST_PORTS = ('app.getorchestra.io:443')",
     "ALTER APPLICATION SET SPECIFICATION orchestra_api TYPE = EXTERNAL_ACCESS LABEL = 'Orchestra API' "
     "HOST_PORTS = ('app.getorchestra.io:443')"),  # DESCRIPTION is required
    ("CREATE OR ALTER VERSIONED SCHEMA", "CREATE OR ALTER VERSIONED SCHEMA core",
     "CREATE OR ALTER VERSIONED SCHEMA IF NOT EXISTS core"),
    ("CREATE SCHEMA", "CREATE SCHEMA IF NOT EXISTS config", "CREATE OR REPLACE SCHEMA IF NOT EXISTS config"),
    ("EXECUTE IMMEDIATE FROM", "EXECUTE IMMEDIATE FROM './sql/state.sql'", "EXECUTE IMMEDIATE FROM ./sql/state.sql"),
    ("EXECUTE IMMEDIATE", "EXECUTE IMMEDIATE 'CREATE SCHEMA IF NOT EXISTS ' || :name || '_x'",
     "EXECUTE IMMEDIATE 'CREATE SCHEMA x' FROM"),
    ("EXECUTE IMMEDIATE",
     "EXECUTE IMMEDIATE $$ DECLARE n INTEGER DEFAULT 0; BEGIN CALL core.x(); RETURN 'ok'; "
     "EXCEPTION WHEN OTHER THEN RETURN SQLERRM; END; $$",
     "EXECUTE IMMEDIATE $$ BEGIN CALL core.x(); RETURN 'ok'; EXCEPTION RETURN SQLERRM; END; $$"),  # no WHEN
    ("CREATE TASK",
     "CREATE TASK IF NOT EXISTS config.t SCHEDULE = 'USING CRON 0 * * * * UTC' "
     "USER_TASK_MANAGED_INITIAL_WAREHOUSE_SIZE = 'XSMALL' AS CALL core.load_all()",
     "CREATE TASK IF NOT EXISTS config.t SCHEDULE = 'USING CRON 0 * * * *' AS CALL core.load_all()"),  # no zone
    ("ALTER TASK", "ALTER TASK config.t SET SCHEDULE = 'USING CRON 0 */6 * * * UTC'",
     "ALTER TASK config.t RESUMED"),
    ("CREATE PROCEDURE",
     "CREATE OR REPLACE PROCEDURE core.load_all() RETURNS VARIANT LANGUAGE PYTHON RUNTIME_VERSION = '3.11' "
     "PACKAGES = ('snowflake-snowpark-python', 'pandas') IMPORTS = ('/python/orchestra_app.zip') "
     "HANDLER = 'orchestra_app.handlers.load_all' EXTERNAL_ACCESS_INTEGRATIONS = (app_eai) "
     "SECRETS = ('orchestra_api_key' = config.k) EXECUTE AS OWNER",
     "CREATE OR REPLACE PROCEDURE core.load_all() RETURNS VARIANT LANGUAGE PYTHON RUNTIME_VERSION = '3.11' "
     "PACKAGES = ('pandas') IMPORTS = ('/python/orchestra_app.zip') HANDLER = 'orchestra_app.handlers.load_all' "
     "EXECUTE AS OWNER"),  # a Python procedure's PACKAGES must include snowflake-snowpark-python
    ("CREATE PROCEDURE",
     "CREATE OR REPLACE PROCEDURE core.ping() RETURNS VARCHAR LANGUAGE SQL EXECUTE AS OWNER AS $$ "
     "DECLARE msg VARCHAR DEFAULT 'ok'; BEGIN IF (msg = 'ok') THEN RETURN msg; ELSE RETURN 'no'; END IF; END; $$",
     "CREATE OR REPLACE PROCEDURE core.ping() RETURNS VARCHAR LANGUAGE SQL EXECUTE AS OWNER AS $$ "
     "BEGIN IF (1 = 1) THEN RETURN 'ok'; END; END; $$"),  # IF closed by END, not END IF
    ("CREATE FUNCTION",
     "CREATE OR REPLACE FUNCTION core.get_task_runs(page NUMBER DEFAULT 1, per_page NUMBER DEFAULT 100) "
     "RETURNS VARIANT LANGUAGE PYTHON RUNTIME_VERSION = '3.11' PACKAGES = ('requests') "
     "IMPORTS = ('/python/orchestra_app.zip') HANDLER = 'orchestra_app.udfs.get_task_runs' "
     "EXTERNAL_ACCESS_INTEGRATIONS = (app_eai) SECRETS = ('orchestra_api_key' = config.k)",
     "CREATE OR REPLACE FUNCTION core.get_task_runs(page NUMBER) RETURNS VARIANT LANGUAGE PYTHON "
     "RUNTIME_VERSION = '3.11' IMPORTS = ('/python/orchestra_app.zip') HANDLER = 'orchestra_app.udfs.get_task_runs' "
     "SECRETS = ('orchestra_api_key' = config.k)"),  # SECRETS without an integration
    ("MERGE", staged_merge_sql("operations"),
     staged_merge_sql("operations").replace("WHEN NOT MATCHED THEN INSERT", "WHEN NOT MATCHED INSERT")),
    ("CREATE TABLE", "CREATE TABLE IF NOT EXISTS config.settings (name VARCHAR NOT NULL, value VARCHAR)",
     "CREATE TABLE IF NOT EXISTS config.settings (name VARCHAR NOT NULL, value)"),  # column without a type
    ("ALTER TABLE", "ALTER TABLE public.task_runs ADD COLUMN IF NOT EXISTS message VARCHAR",
     "ALTER TABLE public.task_runs ADD COLUMN message VARCHAR IF NOT EXISTS"),
    ("CREATE VIEW", "CREATE OR REPLACE VIEW public.v AS SELECT id FROM public.task_runs",
     "CREATE OR REPLACE VIEW public.v SELECT id FROM public.task_runs"),  # missing AS
    ("CREATE VIEW", "CREATE VIEW IF NOT EXISTS public.v AS SELECT id FROM public.task_runs",
     "CREATE OR REPLACE VIEW IF NOT EXISTS public.v AS SELECT id FROM public.task_runs"),
    ("CALL", "CALL core.set_api_key('abc')", "CALL core.set_api_key"),
    ("SHOW", "SHOW APPROVED SPECIFICATIONS", "SHOW APPROVED SPECIFICATION"),
    ("SELECT", "SELECT name, value FROM config.settings", "SELECT name, value FROM config.settings WHERE"),
    ("DELETE", "DELETE FROM config.load_stage WHERE batch_id = ?", "DELETE config.load_stage WHERE batch_id = ? ?"),
]


@pytest.mark.parametrize(("kind", "good", "bad"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_each_statement_kind_accepts_its_documented_form_and_refuses_a_broken_one(
    kind: str, good: str, bad: str
) -> None:
    assert grammar.check(good) == kind
    with pytest.raises(grammar.GrammarError):
        grammar.check(bad)


def test_every_statement_kind_of_the_setup_script_has_a_negative_case() -> None:
    used = {grammar.statement_kind(s) for _, s in script_statements()}
    covered = {c[0] for c in CASES}
    assert used - covered == set(), f"statement kinds without a negative test: {used - covered}"


def test_a_refusal_names_the_rule_its_page_and_where_it_broke() -> None:
    with pytest.raises(grammar.GrammarError) as info:
        grammar.check("CREATE SECRET config.k TYPE = GENERIC_STRING SECRET_VALUE = 'x'")
    message = str(info.value)
    assert "CREATE SECRET" in message and "docs.snowflake.com/en/sql-reference/sql/create-secret" in message
    assert "SECRET_VALUE" in message


def test_an_unknown_statement_kind_is_refused_not_waved_through() -> None:
    with pytest.raises(grammar.GrammarError, match="no grammar for this kind"):
        grammar.check("CREATE NOTEBOOK core.nb FROM '/notebooks' MAIN_FILE = 'nb.ipynb'")


def test_the_stand_in_checks_every_statement_it_is_sent(snow: FakeSnowflake) -> None:
    with pytest.raises(snowflake.connector.errors.ProgrammingError, match="grammar check"):
        snow.query("CREATE SECRET config.k TYPE = GENERIC_STRING SECRET_VALUE = 'x'")
    with pytest.raises(snowflake.connector.errors.ProgrammingError, match="grammar check"):
        snow.query("SELEC 1")


def test_the_grammar_notation_reads_like_the_reference_pages() -> None:
    node = grammar.notation("CREATE [ OR REPLACE ] SECRET [ IF NOT EXISTS ] <name> << { TYPE = GENERIC_STRING } "
                            "[ COMMENT = <literal> ] >>")
    for text, ok in [("CREATE SECRET s TYPE = GENERIC_STRING", True),
                     ("CREATE SECRET s COMMENT = 'c' TYPE = GENERIC_STRING", True),
                     ("CREATE SECRET s COMMENT = 'c'", False),
                     ("CREATE SECRET s TYPE = GENERIC_STRING TYPE = GENERIC_STRING", False)]:
        tokens = grammar.tokenize(text)
        assert (len(tokens) in grammar.Matcher(tokens).ends(node, 0)) is ok, text


def test_scripts_are_split_like_snowflake_splits_them(tmp_path: Path) -> None:
    script = "SELECT 'a;b';\n-- c; d\nEXECUTE IMMEDIATE $$ BEGIN RETURN 1; END; $$;\nSELECT 2"
    assert grammar.split_script(script) == [
        "SELECT 'a;b'", "-- c; d\nEXECUTE IMMEDIATE $$ BEGIN RETURN 1; END; $$", "SELECT 2"
    ]
