"""Rules for statements that carry code: EXECUTE IMMEDIATE, tasks, procedures and functions, with
the options their pages require of a Python routine and of a task's schedule."""

from __future__ import annotations

import re

from .rules import (
    _COMMENT,
    _CREATE,
    _IF_NOT_EXISTS,
    _not_both_replace_and_if_not_exists,
    _property,
    _property_after,
    rule,
)
from .slots import SLOTS, _kind
from .tokens import Token


def _python_routine(tokens: list[Token]) -> str | None:
    """Python functions and procedures: the options the CREATE FUNCTION / PROCEDURE pages require."""
    language = _property_after(tokens, "LANGUAGE")
    if language != "PYTHON":
        return None
    runtime = _property(tokens, "RUNTIME_VERSION")
    handler = _property(tokens, "HANDLER")
    if not runtime or runtime[0].kind != "string" or not re.fullmatch(r"3\.(9|1[0-3])", runtime[0].value):
        return "LANGUAGE PYTHON needs RUNTIME_VERSION = '3.9' .. '3.13'"
    if not handler or handler[0].kind != "string":
        return "LANGUAGE PYTHON needs HANDLER = '<module>.<function>'"
    is_procedure = any(t.kind == "word" and t.value == "PROCEDURE" for t in tokens[:6])
    packages = _property(tokens, "PACKAGES") or []
    names = [t.value.split("==")[0].strip().lower() for t in packages if t.kind == "string"]
    if is_procedure and "snowflake-snowpark-python" not in names:
        # https://docs.snowflake.com/en/sql-reference/sql/create-procedure : PACKAGES must include
        # 'snowflake-snowpark-python' for a Python procedure.
        return "a Python procedure's PACKAGES must include 'snowflake-snowpark-python'"
    imports = _property(tokens, "IMPORTS")
    if imports is None and "." in handler[0].value and not any(t.kind in ("string", "dollar") for t in tokens[-1:]):
        return "HANDLER names a module but there is no IMPORTS and no inline code"
    if _property(tokens, "SECRETS") is not None and _property(tokens, "EXTERNAL_ACCESS_INTEGRATIONS") is None:
        # https://docs.snowflake.com/en/developer-guide/external-network-access/creating-using-external-network-access
        return "SECRETS needs EXTERNAL_ACCESS_INTEGRATIONS (secrets reach code only through an integration)"
    return None


def _task_schedule(tokens: list[Token]) -> str | None:
    value = _property(tokens, "SCHEDULE")
    if value is None:
        return None
    text = value[0].value if value and value[0].kind == "string" else ""
    # https://docs.snowflake.com/en/sql-reference/sql/create-task : '<num> { HOURS | MINUTES |
    # SECONDS }' or 'USING CRON <expr> <time_zone>' (five cron fields, then a time zone).
    if re.fullmatch(r"\d+\s+(MINUTE|MINUTES|HOUR|HOURS|SECOND|SECONDS)", text.strip(), re.I):
        return None
    m = re.fullmatch(r"USING\s+CRON\s+(\S+\s+\S+\s+\S+\s+\S+\s+\S+)\s+(\S+)", text.strip(), re.I)
    if m:
        return None
    return f"SCHEDULE {text!r} is neither '<num> MINUTES' nor 'USING CRON <5 fields> <time zone>'"


rule(
    "EXECUTE IMMEDIATE FROM", "execute-immediate-from",
    "EXECUTE IMMEDIATE FROM <literal>",
    lambda tokens: None
    if re.fullmatch(r"(\./|/)?[\w./-]+\.sql", tokens[3].value)
    else "EXECUTE IMMEDIATE FROM needs a path to a .sql file",
)
# The body (a string, $$ block or variable) is checked by check_tokens itself.
rule(
    "EXECUTE IMMEDIATE", "execute-immediate",
    "EXECUTE IMMEDIATE { <body> | <var> | <concat> } [ USING ( <ident> [ , ... ] ) ]",
)
SLOTS["var"] = _kind("var")
SLOTS["bind"] = _kind("bind")

_TASK_PROPS = (
    "<< [ { WAREHOUSE = <string> | USER_TASK_MANAGED_INITIAL_WAREHOUSE_SIZE = <string> } ] "
    "[ SCHEDULE = <literal> ] [ CONFIG = <string> ] [ ALLOW_OVERLAPPING_EXECUTION = { TRUE | FALSE } ] "
    "[ OVERLAP_POLICY = { NO_OVERLAP | ALLOW_CHILD_OVERLAP | ALLOW_ALL_OVERLAP } ] "
    "[ USER_TASK_TIMEOUT_MS = <number> ] [ SUSPEND_TASK_AFTER_NUM_FAILURES = <number> ] "
    "[ ERROR_INTEGRATION = <name> ] [ SUCCESS_INTEGRATION = <name> ] [ LOG_LEVEL = <literal> ] "
    "[ TASK_AUTO_RETRY_ATTEMPTS = <number> ] [ USER_TASK_MINIMUM_TRIGGER_INTERVAL_IN_SECONDS = <number> ] "
    f"[ TARGET_COMPLETION_INTERVAL = <literal> ] {_COMMENT} [ FINALIZE = <name> ] >>"
)
rule(
    "CREATE TASK", "create-task",
    f"CREATE [ OR REPLACE | OR ALTER ] TASK {_IF_NOT_EXISTS} <name> {_TASK_PROPS} "
    "[ AFTER <name> [ , ... ] ] [ WHEN <expr> ] AS <rest>",
    _not_both_replace_and_if_not_exists,
    _task_schedule,
)
rule(
    "ALTER TASK", "alter-task",
    "ALTER TASK [ IF EXISTS ] <name> { RESUME | SUSPEND } "
    "| ALTER TASK [ IF EXISTS ] <name> SET " + _TASK_PROPS.replace("<< ", "<< ", 1)
    + " | ALTER TASK [ IF EXISTS ] <name> UNSET { SCHEDULE | COMMENT | WAREHOUSE | USER_TASK_TIMEOUT_MS } [ , ... ]"
    " | ALTER TASK [ IF EXISTS ] <name> MODIFY AS <rest>",
    _task_schedule,
)

_ARGS = "( [ { <ident> <data_type> [ DEFAULT <expr> ] } [ , ... ] ] )"
_RETURNS = "RETURNS { <data_type> [ [ NOT ] NULL ] | TABLE ( [ <ident> <data_type> [ , ... ] ] ) }"
_PY_OPTIONS = (
    "[ RUNTIME_VERSION = <literal> ] [ PACKAGES = ( [ <literal> [ , ... ] ] ) ] "
    "[ IMPORTS = ( [ <literal> [ , ... ] ] ) ] [ HANDLER = <literal> ] "
    "[ EXTERNAL_ACCESS_INTEGRATIONS = ( <name> [ , ... ] ) ] "
    "[ SECRETS = ( { <literal> = <name> } [ , ... ] ) ] "
    "[ { CALLED ON NULL INPUT | RETURNS NULL ON NULL INPUT | STRICT } ] [ { VOLATILE | IMMUTABLE } ] "
    f"{_COMMENT}"
)
rule(
    "CREATE PROCEDURE", "create-procedure",
    f"{_CREATE} [ SECURE ] PROCEDURE {_IF_NOT_EXISTS} <name> {_ARGS} [ COPY GRANTS ] {_RETURNS} "
    f"<< LANGUAGE {{ PYTHON | SQL | JAVASCRIPT | JAVA | SCALA }} {_PY_OPTIONS} "
    "[ EXECUTE AS { OWNER | CALLER | RESTRICTED CALLER } ] >> [ AS <body> ]",
    _not_both_replace_and_if_not_exists,
    _python_routine,
)
rule(
    "CREATE FUNCTION", "create-function",
    f"{_CREATE} [ SECURE ] FUNCTION {_IF_NOT_EXISTS} <name> {_ARGS} [ COPY GRANTS ] {_RETURNS} "
    f"<< LANGUAGE {{ PYTHON | SQL | JAVASCRIPT | JAVA | SCALA }} {_PY_OPTIONS} [ MEMOIZABLE ] >> [ AS <body> ]",
    _not_both_replace_and_if_not_exists,
    _python_routine,
)
