"""A Snowpark-like session over fakesnow, plus the few Snowflake objects fakesnow does not have.

Tables, views, MERGE, VARIANT, TIMESTAMP_TZ, FLATTEN: real SQL through fakesnow (DuckDB).
Application roles, grants, secrets, network rules, integrations, app specifications, tasks and
Python procedure/function definitions: recorded by `Runtime` (fakesnow has none of them), so tests
can assert what the app created and the `_snowflake` secret API can be emulated faithfully.
"""

from __future__ import annotations

import re
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import snowflake.connector
from fakesnow.cursor import FakeSnowflakeCursor
from sqlglot import exp

from . import statements as checks

APP_DIR = Path(__file__).resolve().parents[2] / "app"

# Statement kinds fakesnow cannot run, recognised by their first words.
_EMULATED = re.compile(
    r"^\s*(CREATE\s+APPLICATION\s+ROLE|GRANT\s|CREATE\s+(OR\s+REPLACE\s+)?(SECRET|NETWORK\s+RULE|"
    r"EXTERNAL\s+ACCESS\s+INTEGRATION|PROCEDURE|FUNCTION|TASK)|CREATE\s+\w+\s+IF\s+NOT\s+EXISTS\s+"
    r"(SECRET|NETWORK|EXTERNAL|TASK)|CREATE\s+(SECRET|NETWORK|EXTERNAL|TASK)|ALTER\s+(SECRET|NETWORK\s+RULE|"
    r"EXTERNAL\s+ACCESS\s+INTEGRATION|APPLICATION|TASK)|SHOW\s+(APPROVED\s+)?SPECIFICATIONS|CALL\s)",
    re.IGNORECASE,
)


_TRANSFORMED: dict[tuple[str, str, str], list[exp.Expr]] = {}
# Statements whose transformation depends on more than their text and the current database and
# schema (session variables, USE, CREATE TABLE AS reading DuckDB's catalog): never cached.
_UNCACHEABLE = re.compile(r"^\s*(SET|UNSET|USE|PUT|GET|LIST|REMOVE|COPY)\b|\bAS\s+SELECT\b", re.I)
_original_execute = FakeSnowflakeCursor.execute
_original_transform = FakeSnowflakeCursor._transform


def _execute_with_cache(self: Any, command: str, params: Any = None, *args: Any, **kwargs: Any) -> Any:
    """fakesnow re-transforms a statement's syntax tree on every call (about a second for one of
    the app's MERGEs, tens of milliseconds for DDL). With parameters bound server-side (qmark)
    the result depends only on the text and the current database and schema, so transformed
    statements are kept and replayed: same DuckDB SQL, same parameters, same results."""
    key = (command, str(self._conn.database), str(self._conn.schema))
    cacheable = not _UNCACHEABLE.search(command)
    if cacheable and key in _TRANSFORMED:
        for statement in _TRANSFORMED[key]:
            self._execute(statement.copy(), list(params) if statement.find(exp.Placeholder) else None)
        return self
    captured: list[exp.Expr] = []

    def capture(statement: exp.Expr, p: Any) -> exp.Expr:
        out = _original_transform(self, statement, p)
        captured.append(out.copy())
        return out

    self._transform = capture
    try:
        result = _original_execute(self, command, params, *args, **kwargs)
    finally:
        del self._transform
    if cacheable:
        _TRANSFORMED[key] = captured
    return result


FakeSnowflakeCursor.execute = _execute_with_cache  # type: ignore[method-assign]


class Row(tuple):
    """Like snowflake.snowpark.Row: index or column-name access."""

    names: tuple[str, ...] = ()

    def __new__(cls, values: tuple[Any, ...], names: tuple[str, ...]) -> Row:
        row = super().__new__(cls, values)
        row.names = names
        return row

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self.names.index(key.upper()))
        return tuple.__getitem__(self, key)

    def as_dict(self) -> dict[str, Any]:
        return dict(zip(self.names, self, strict=True))


@dataclass
class Runtime:
    """Snowflake objects fakesnow lacks, as the app leaves them."""

    roles: set[str] = field(default_factory=set)
    grants: list[str] = field(default_factory=list)
    secrets: dict[str, str] = field(default_factory=dict)
    secret_bindings: dict[str, str] = field(default_factory=dict)
    network_rules: dict[str, str] = field(default_factory=dict)
    integrations: dict[str, str] = field(default_factory=dict)
    specs: dict[str, dict[str, Any]] = field(default_factory=dict)
    routines: dict[str, str] = field(default_factory=dict)
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)

    def approve_all(self) -> None:
        for spec in self.specs.values():
            spec["status"] = "APPROVED"

    def get_generic_secret_string(self, alias: str) -> str:
        """`_snowflake.get_generic_secret_string`: the secret bound under `alias`."""
        target = self.secret_bindings.get(alias)
        if target is None or target not in self.secrets:
            raise ValueError(f"secret {alias!r} is not bound")
        return self.secrets[target]


class FakeSession:
    """`session.sql(query, params=[...]).collect()`, as Snowpark offers it, over fakesnow."""

    def __init__(self, conn: Any, runtime: Runtime, app_name: str = "ORCHESTRA_DATA_APP") -> None:
        self.conn = conn
        self.runtime = runtime
        self.app_name = app_name
        self.statements: list[str] = []
        # The installed app's rules (support/account/) see every statement first; `role` is the
        # application role a consumer session uses (None: the app itself, as owner).
        self.rules: Any = None
        self.role: str | None = None

    write_pandas = checks.write_pandas  # Snowpark's bulk load, over fakesnow (support/statements.py)

    def sql(self, query: str, params: list[Any] | None = None) -> _Result:
        return _Result(self, query, params)

    def execute(self, query: str, params: list[Any] | None = None) -> list[Row]:
        self.statements.append(query)
        checks.check(self, query, params)  # grammar, 1 MB, owner's-rights rules (support/statements.py)
        if self.rules is not None:
            handled = self.rules.handle(self, query, params)
            if handled is not None:
                return handled
        if _EMULATED.match(query):
            return self._emulate(query.strip())
        cur = self.conn.cursor()
        cur.execute(query, params or None)
        names = tuple(d.name.upper() for d in cur.description or ())
        return [Row(tuple(r), names) for r in cur.fetchall()]

    def _emulate(self, q: str) -> list[Row]:
        rt = self.runtime
        upper = q.upper()
        rt.log.append(q)
        if upper.startswith("CREATE APPLICATION ROLE"):
            rt.roles.add(q.split()[-1].rstrip(";").lower())
        elif upper.startswith("GRANT"):
            rt.grants.append(" ".join(q.split()))
        elif re.match(r"CREATE\s+SECRET", upper):
            name = re.search(r"SECRET\s+(?:IF\s+NOT\s+EXISTS\s+)?([\w.]+)", q, re.I).group(1).lower()
            value = re.search(r"SECRET_STRING\s*=\s*'((?:[^'\\]|\\.)*)'", q, re.I).group(1)
            if "IF NOT EXISTS" not in upper or name not in rt.secrets:
                rt.secrets[name] = value
        elif upper.startswith("ALTER SECRET"):
            name = q.split()[2].lower()
            if name not in rt.secrets:
                raise snowflake.connector.errors.ProgrammingError(f"Secret '{name}' does not exist")
            rt.secrets[name] = re.search(r"SECRET_STRING\s*=\s*'((?:[^'\\]|\\.)*)'", q, re.I).group(1)
        elif "NETWORK RULE" in upper:
            name = re.search(r"RULE\s+(?:IF\s+NOT\s+EXISTS\s+)?([\w.]+)", q, re.I).group(1).lower()
            if not (upper.startswith("CREATE") and "IF NOT EXISTS" in upper and name in rt.network_rules):
                rt.network_rules[name] = re.search(r"VALUE_LIST\s*=\s*\(([^)]*)\)", q, re.I).group(1)
        elif "EXTERNAL ACCESS INTEGRATION" in upper:
            name = re.search(r'INTEGRATION\s+(?:IF\s+NOT\s+EXISTS\s+)?("[^"]+"|\w+)', q, re.I).group(1)
            rt.integrations[name] = q
        elif upper.startswith("ALTER APPLICATION SET SPECIFICATION"):
            name = q.split()[4].lower()
            hosts = re.search(r"HOST_PORTS\s*=\s*\(([^)]*)\)", q, re.I).group(1)
            old = rt.specs.get(name)
            status = old["status"] if old and old["host_ports"] == hosts else "PENDING"
            rt.specs[name] = {"host_ports": hosts, "status": status, "sql": q}
        elif re.match(r"SHOW\s+(APPROVED\s+)?SPECIFICATIONS", upper):
            only = "APPROVED" in upper
            names = ("NAME", "STATUS")
            return [
                Row((n.upper(), s["status"]), names)
                for n, s in rt.specs.items()
                if not only or s["status"] == "APPROVED"
            ]
        elif re.match(r"CREATE\s+(OR\s+REPLACE\s+)?(PROCEDURE|FUNCTION)", upper):
            signature = re.search(r"(?:PROCEDURE|FUNCTION)\s+([\w.]+\([^)]*\))", q, re.I).group(1)
            rt.routines[" ".join(signature.split()).lower()] = q
            for alias, target in re.findall(r"'(\w+)'\s*=\s*([\w.]+)", q.split("SECRETS", 1)[-1]):
                if "SECRETS" in upper:
                    rt.secret_bindings[alias] = target.lower()
        elif re.match(r"CREATE\s+TASK", upper):
            name = re.search(r"TASK\s+(?:IF\s+NOT\s+EXISTS\s+)?([\w.]+)", q, re.I).group(1).lower()
            if name not in rt.tasks:
                schedule = re.search(r"SCHEDULE\s*=\s*'([^']*)'", q, re.I).group(1)
                rt.tasks[name] = {"schedule": schedule, "state": "suspended", "sql": q}
        elif upper.startswith("ALTER TASK"):
            name = q.split()[2].lower()
            if name not in rt.tasks:
                raise snowflake.connector.errors.ProgrammingError(f"Task '{name}' does not exist")
            if upper.endswith("RESUME"):
                rt.tasks[name]["state"] = "started"
            elif upper.endswith("SUSPEND"):
                rt.tasks[name]["state"] = "suspended"
            elif "SET SCHEDULE" in upper:
                rt.tasks[name]["schedule"] = re.search(r"SCHEDULE\s*=\s*'([^']*)'", q, re.I).group(1)
        elif upper.startswith("CALL"):
            return self._call(q)
        return [Row(("Statement executed successfully.",), ("STATUS",))]

    def _call(self, q: str) -> list[Row]:
        """CALL core.<procedure>(): runs the Python handler the app registered for it."""
        from orchestra_app import handlers

        m = re.match(r"CALL\s+core\.(\w+)\s*\((.*)\)\s*;?$", q, re.I | re.S)
        if not m:
            raise snowflake.connector.errors.ProgrammingError(f"cannot emulate {q!r}")
        args = [a.strip().strip("'") for a in m.group(2).split(",") if a.strip()]
        result = getattr(handlers, m.group(1))(self, *args)
        return [Row((result,), (m.group(1).upper(),))]


class _Result:
    def __init__(self, session: FakeSession, query: str, params: list[Any] | None) -> None:
        self.session, self.query, self.params = session, query, params

    def collect(self) -> list[Row]:
        return self.session.execute(self.query, self.params)


def split_statements(sql: str) -> list[str]:
    """Statements of a script: `;` at the end of a line ends one, except inside a `$$` block;
    `--` comment lines are dropped."""
    statements, current = [], []
    in_block = False
    for line in sql.splitlines():
        if not in_block and (line.strip().startswith("--") or not line.strip()):
            continue
        current.append(line)
        if line.count("$$") % 2 == 1:
            in_block = not in_block
        if not in_block and line.rstrip().endswith(";"):
            statements.append("\n".join(current).rstrip().rstrip(";").strip())
            current = []
    if current:
        statements.append("\n".join(current).strip())
    return statements


def run_setup_script(session: FakeSession, path: Path = APP_DIR / "setup_script.sql") -> list[str]:
    """Runs the setup script as an install or upgrade would: EXECUTE IMMEDIATE FROM inlines the
    file; the versioned schema becomes a plain schema (fakesnow has no versioning); the rest goes
    through session.sql (real SQL, or emulated objects). Returns every statement run.
    A session of an installed app (support/account/) runs it as Snowflake would: install, or
    upgrade with the versioned schema rebuilt."""
    if session.rules is not None:
        return list(session.rules.run_setup(path))
    ran = []
    for statement in split_statements(path.read_text()):
        m = re.match(r"EXECUTE\s+IMMEDIATE\s+FROM\s+'([^']+)'", statement, re.I)
        if m:
            ran += run_setup_script(session, (path.parent / m.group(1)).resolve())
            continue
        block = re.match(r"EXECUTE\s+IMMEDIATE\s+\$\$(.*)\$\$", statement, re.I | re.S)
        if block:
            # A Snowflake Scripting block: fakesnow has none, so its CALLs run directly. Errors
            # propagate here (the block would swallow them in Snowflake): a test must see them.
            for call in re.findall(r"^\s*(CALL\s+[^;]+);", block.group(1), re.I | re.M):
                session.sql(call).collect()
                ran.append(call)
            continue
        if re.match(r"CREATE\s+OR\s+ALTER\s+VERSIONED\s+SCHEMA", statement, re.I):
            versioned = r"CREATE\s+OR\s+ALTER\s+VERSIONED\s+SCHEMA"
            statement = re.sub(versioned, "CREATE SCHEMA IF NOT EXISTS", statement, flags=re.I)
        session.sql(statement).collect()
        ran.append(statement)
    return ran


def install_snowflake_module(runtime: Runtime) -> None:
    """The `_snowflake` module Snowflake provides inside procedures and UDFs."""
    module = types.ModuleType("_snowflake")
    module.get_generic_secret_string = runtime.get_generic_secret_string  # type: ignore[attr-defined]
    sys.modules["_snowflake"] = module


class FakeSnowflake:
    """A fresh fakesnow database for one test, with the app's setup script available."""

    def __init__(self, database: str = "ORCHESTRA_DATA_APP", timezone: str | None = None) -> None:
        from .account import Account  # the account model builds on this module

        self.account = Account(timezone)
        self.installed = self.account.create(database)
        self.conn = self.installed.conn
        self.runtime = self.installed.runtime
        self.session = self.installed.session

    def query(self, sql: str, params: list[Any] | None = None) -> list[Row]:
        return self.session.execute(sql, params)

    def close(self) -> None:
        self.account.close()
