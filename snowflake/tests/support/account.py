"""A consumer's Snowflake account holding installed Native Apps: the part of Snowflake that fakesnow
does not have, modelled on the documented rules the app depends on (docs/snowflake-app.md cites
each one). Every rule here has a test that breaks it on purpose (test_standin_rules.py).

- The setup script runs SQL only: a CALL of a Python procedure during setup fails.
- A versioned schema (`CREATE OR ALTER VERSIONED SCHEMA`) holds only what the running version's
  setup script creates: an upgrade empties it and runs the new script; run-time creations vanish.
- Integrations are account-level, owned by the app that created them: a routine can bind only an
  integration that exists and that its app owns, and only secrets that integration allows.
- A routine bound to an integration reaches the network only once the app's EXTERNAL_ACCESS
  specification covering the rule's hosts is APPROVED; otherwise its connection fails.
- Application roles see only what was granted to them (USAGE on schemas and routines, SELECT on
  tables and views); they are never granted writes.
- A task runs its body by name at each firing; a missing target fails the run, and the task is
  suspended after 10 consecutive failures.
- DROP APPLICATION without CASCADE fails while the app owns account-level objects.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import re
import shutil
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import duckdb
import duckdb.sqltypes as t
import fakesnow
import requests
import snowflake.connector
import yaml
from urllib3.exceptions import MaxRetryError, NewConnectionError

from .fake_snowflake import APP_DIR, FakeSession, Row, Runtime, split_statements
from .scripting import Interpreter, ScriptingError, literal

Error = snowflake.connector.errors.ProgrammingError
# Snowflake's default for SUSPEND_TASK_AFTER_NUM_FAILURES.
SUSPEND_AFTER_FAILURES = 10
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
DUCK_TYPES = {"NUMBER": t.BIGINT, "VARCHAR": t.VARCHAR, "TIMESTAMP_TZ": t.TIMESTAMP_TZ}


def ident(name: str) -> str:
    """An identifier as Snowflake stores it: quoted keeps its case, unquoted is upper-cased."""
    name = name.strip()
    if name.startswith('"') and name.endswith('"'):
        return name[1:-1].replace('""', '"')
    return name.upper()


@dataclass
class Integration:
    name: str
    owner: str
    rules: list[str]
    secrets: list[str]
    enabled: bool


@dataclass
class Routine:
    kind: str  # PROCEDURE | FUNCTION
    name: str  # schema.name, lower case
    params: list[tuple[str, str, str | None]]  # (name, type, default SQL)
    language: str
    handler: str | None
    body: str | None
    integrations: list[str]
    secrets: dict[str, str]
    caller_rights: bool
    in_setup: bool
    sql: str

    @property
    def required(self) -> int:
        return sum(1 for _, _, d in self.params if d is None)

    @property
    def packages(self) -> set[str]:
        """The Anaconda packages named in PACKAGES, without version pins."""
        m = re.search(r"PACKAGES\s*=\s*\(([^)]*)\)", self.sql, re.I)
        names = re.findall(r"'([^']+)'", m.group(1)) if m else []
        return {re.split(r"[=<>]", n, maxsplit=1)[0].strip().lower() for n in names}


def _depths(text: str, start: int = 0) -> Iterator[tuple[int, str, int]]:
    """(index, character, parenthesis depth after it) for every character outside quotes."""
    depth, quote = 0, ""
    for i in range(start, len(text)):
        c = text[i]
        if quote:
            quote = "" if c == quote else quote
            continue
        if c in "'\"":
            quote = c
            continue
        depth += {"(": 1, ")": -1}.get(c, 0)
        yield i, c, depth


def _top_level_split(text: str) -> list[str]:
    cuts = [i for i, c, depth in _depths(text) if c == "," and depth == 0]
    bounds = zip([-1, *cuts], [*cuts, len(text)], strict=True)
    return [text[a + 1 : b].strip() for a, b in bounds if text[a + 1 : b].strip()]


def _paren(text: str, start: int) -> tuple[str, int]:
    """The text inside the parenthesis opening at `start`, and the index after it."""
    for i, c, depth in _depths(text, start):
        if c == ")" and depth == 0:
            return text[start + 1 : i], i + 1
    raise Error(f"unbalanced parenthesis in {text[:80]!r}")


class InstalledApp:
    """One application object: its own database (fakesnow), Runtime objects, routines and grants.
    `handle` sees every statement any session of the app runs, before fakesnow does."""

    def __init__(self, account: Account, name: str) -> None:
        self.account = account
        self.name = name.upper()
        self.conn = snowflake.connector.connect(database=self.name, schema="PUBLIC", paramstyle="qmark")
        self.conn.cursor().execute(f"CREATE DATABASE IF NOT EXISTS {self.name}")
        self.runtime = Runtime()
        self.session = self._session(None)
        self.routines: dict[str, list[Routine]] = {}
        # Streamlit objects: schema.name -> main file inside the version's package.
        self.streamlits: dict[str, Path] = {}
        self.versioned: set[str] = set()
        self.privileges: set[str] = set()
        self.manifest: dict[str, Any] = {}
        self.version_dir: Path | None = None
        self.installed = False
        self.phase = "run"
        self.task_history: list[dict[str, Any]] = []
        self.callback_history: list[dict[str, Any]] = []

    # -- sessions ---------------------------------------------------------------------------

    def _session(self, role: str | None) -> FakeSession:
        session = FakeSession(self.conn, self.runtime, self.name)
        session.rules = self  # type: ignore[attr-defined]
        session.role = role  # type: ignore[attr-defined]
        return session

    def as_role(self, role: str) -> FakeSession:
        """A consumer session using an application role (`GRANT APPLICATION ROLE ... TO ROLE r`)."""
        return self._session(role.lower())

    def query(self, sql: str, params: list[Any] | None = None) -> list[Row]:
        return self.session.execute(sql, params)

    def close(self) -> None:
        self.account.close()

    # -- install and upgrade ----------------------------------------------------------------

    def run_setup(self, script: Path) -> list[str]:
        """Install (first run) or upgrade: the versioned schemas are emptied, then the version's
        setup script runs top to bottom as the app."""
        version_dir = script.parent
        manifest_path = version_dir / "manifest.yml"
        if manifest_path.exists():
            self.manifest = yaml.safe_load(manifest_path.read_text())
            self.privileges = {next(iter(p)).upper() for p in self.manifest.get("privileges", []) or []}
        else:  # a bare script (tests of single statements): the privileges this app's manifest asks
            self.privileges = {"CREATE EXTERNAL ACCESS INTEGRATION", "EXECUTE TASK", "EXECUTE MANAGED TASK"}
        for schema in self.versioned:
            for key in [k for k in self.routines if k.startswith(schema + ".")]:
                self._drop_routine(key)
            self.streamlits = {k: v for k, v in self.streamlits.items() if not k.startswith(schema + ".")}
            self.runtime.grants = [g for g in self.runtime.grants if f" {schema.upper()}." not in g.upper()]
        self.version_dir = version_dir
        self.phase = "setup"
        try:
            ran = self._run_script(script)
        finally:
            self.phase = "run"
        # The manifest's default_streamlit must be an object this version's setup script created.
        # https://docs.snowflake.com/en/developer-guide/native-apps/adding-streamlit
        default = (self.manifest.get("artifacts") or {}).get("default_streamlit")
        if default and str(default).lower() not in self.streamlits:
            raise Error(f"default_streamlit {default}: the setup script did not create that Streamlit object")
        self.installed = True
        return ran

    def _run_script(self, path: Path) -> list[str]:
        ran = []
        for statement in split_statements(path.read_text()):
            m = re.match(r"EXECUTE\s+IMMEDIATE\s+FROM\s+'([^']+)'", statement, re.I)
            if m:
                included = (path.parent / m.group(1)).resolve()
                if self.version_dir and not included.is_relative_to(self.version_dir.resolve()):
                    raise Error(f"EXECUTE IMMEDIATE FROM {m.group(1)!r}: not in the application package")
                ran += self._run_script(included)
                continue
            self.session.execute(statement)
            ran.append(statement)
        return ran

    def _drop_routine(self, key: str) -> None:
        for routine in self.routines.pop(key, []):
            self.runtime.routines = {k: v for k, v in self.runtime.routines.items() if k.split("(")[0] != routine.name}
        with contextlib.suppress(duckdb.Error):
            self.conn._duck_conn.execute(f"DROP MACRO IF EXISTS {self.name}.{key}")

    # -- the statement hook -----------------------------------------------------------------

    def handle(self, session: FakeSession, query: str, params: list[Any] | None) -> list[Row] | None:
        q = query.strip().rstrip(";").strip()
        flat = " ".join(q.split()).upper()
        role = getattr(session, "role", None)
        if self.phase == "setup" and re.match(r"USE\s+(DATABASE|SCHEMA|ROLE|SECONDARY\s+ROLES)\b", flat):
            raise Error(f"{flat.split()[0]} {flat.split()[1]} is not allowed in a setup script")
        if flat.startswith("CALL "):
            return self._call(session, q)
        if role is not None:
            self._check_access(role, q, flat)
        if "INFORMATION_SCHEMA.APPLICATION_SPECIFICATIONS" in flat and flat.startswith(("SELECT", "WITH")):
            return session.execute(self._specifications_view(q), params)
        if m := re.match(r"ALTER SESSION SET TIMEZONE\s*=\s*'([^']+)'$", flat, re.I):
            self.account.set_timezone(q.split("'")[1])
            return [Row(("Statement executed successfully.",), ("STATUS",))]
        if flat.startswith("EXECUTE IMMEDIATE FROM"):
            raise Error("EXECUTE IMMEDIATE FROM runs only in a setup script (the stand-in inlines it there)")
        if flat.startswith("EXECUTE IMMEDIATE"):
            body = q[len("EXECUTE IMMEDIATE") :].strip()
            block = body[2:-2] if body.startswith("$$") else str(self._scalar(session, "SELECT " + body))
            value = Interpreter(self.session.execute).execute_block(block)
            return [Row((value,), ("ANONYMOUS BLOCK",))]
        if m := re.match(r"CREATE OR ALTER VERSIONED SCHEMA (\w+)", flat):
            if self.phase != "setup":
                raise Error("A versioned schema can only be created or altered by the setup script")
            self.versioned.add(m.group(1).lower())
            session.execute(f"CREATE SCHEMA IF NOT EXISTS {m.group(1)}")
            return [Row((f"Schema {m.group(1)} successfully created.",), ("STATUS",))]
        if m := re.match(r"DROP SCHEMA (?:IF EXISTS )?(\w+)", flat):
            if m.group(1).lower() in self.versioned:
                raise Error("Dropping a versioned schema is not supported")
        if m := re.match(r"CREATE (?:OR REPLACE )?TASK (?:IF NOT EXISTS )?(\w+)\.", flat):
            if m.group(1).lower() in self.versioned:
                raise Error("Tasks are not supported in a versioned schema: create the task in a normal schema")
        if m := re.match(r"CREATE (?:OR REPLACE )?STREAMLIT (?:IF NOT EXISTS )?([\w.]+) FROM '([^']+)'", flat):
            source = re.search(r"\bFROM\s+'([^']+)'", q, re.I)
            return self._create_streamlit(q, m.group(1).lower(), source.group(1) if source else "")
        if re.match(r"CREATE (OR REPLACE )?EXTERNAL ACCESS INTEGRATION", flat):
            return self._create_integration(q, flat)
        if flat.startswith("ALTER EXTERNAL ACCESS INTEGRATION"):
            return self._alter_integration(q)
        if re.match(r"CREATE (OR REPLACE |OR ALTER )?(SECURE )?(PROCEDURE|FUNCTION)", flat):
            return self._create_routine(q)
        if flat.startswith("ALTER APPLICATION SET SPECIFICATION"):
            return self._set_specification(q)
        if m := re.match(r"SHOW (APPROVED |DECLINED |PENDING )?SPECIFICATIONS", flat):
            wanted = (m.group(1) or "").strip()
            names = ("NAME", "STATUS", "SEQUENCE_NUMBER", "DEFINITION")
            return [
                Row((n.upper(), s["status"], s["sequence"], json.dumps({"host_ports": s["hosts"]})), names)
                for n, s in self.runtime.specs.items()
                if not wanted or s["status"] == wanted
            ]
        return None

    def _scalar(self, session: FakeSession, sql: str) -> Any:
        rows = self.session.execute(sql)
        return rows[0][0] if rows else None

    # -- access control ---------------------------------------------------------------------

    def _grants(self) -> list[tuple[str, str, str, str]]:
        out = []
        for g in self.runtime.grants:
            m = re.match(
                r"GRANT (.+?) ON (SCHEMA|TABLE|VIEW|PROCEDURE|FUNCTION) ([\w.]+)(?:\(.*\))? TO APPLICATION ROLE (\w+)$",
                g,
                re.I,
            )
            if m:
                out.append((m.group(1).upper(), m.group(2).upper(), m.group(3).lower(), m.group(4).lower()))
        return out

    def roles_of(self, role: str) -> set[str]:
        """The role and every application role granted to it."""
        found, todo = {role}, [role]
        while todo:
            current = todo.pop()
            for g in self.runtime.grants:
                m = re.match(r"GRANT APPLICATION ROLE (\w+) TO APPLICATION ROLE (\w+)$", g, re.I)
                if m and m.group(2).lower() == current and m.group(1).lower() not in found:
                    found.add(m.group(1).lower())
                    todo.append(m.group(1).lower())
        return found

    def can(self, role: str, privilege: str, kinds: tuple[str, ...], name: str) -> bool:
        roles = self.roles_of(role)
        return any(p == privilege and k in kinds and n == name and r in roles for p, k, n, r in self._grants())

    def _need(self, role: str, privilege: str, kinds: tuple[str, ...], name: str) -> None:
        schema = name.split(".")[0]
        if "." in name and not self.can(role, "USAGE", ("SCHEMA",), schema):
            raise Error(f"Schema '{self.name}.{schema.upper()}' does not exist or not authorized.")
        if not self.can(role, privilege, kinds, name):
            raise Error(f"Insufficient privileges to operate on {kinds[0].lower()} '{name.upper()}' as {role}")

    def _check_access(self, role: str, q: str, flat: str) -> None:
        if flat.startswith(("SHOW ", "DESCRIBE ", "DESC ")):
            return
        if not flat.startswith(("SELECT", "WITH")):
            raise Error(f"Insufficient privileges: application role {role} may not run {flat.split()[0]} here")
        for fn in set(re.findall(r"\b(core\.\w+)\s*\(", q, re.I)):
            self._need(role, "USAGE", ("FUNCTION",), fn.lower())
        body = re.sub(r"'(?:[^']|'')*'", "''", q)
        for schema, table in set(re.findall(r"\b(?:FROM|JOIN)\s+(?:\w+\.)?(\w+)\.(\w+)\b(?!\s*\()", body, re.I)):
            self._need(role, "SELECT", ("TABLE", "VIEW"), f"{schema}.{table}".lower())

    # -- integrations -----------------------------------------------------------------------

    def _create_streamlit(self, q: str, name: str, source: str) -> list[Row]:
        """A Streamlit app from a folder of the application package (FROM '/streamlit' MAIN_FILE =
        '/dashboard.py'): the folder and the main file must be in the version being installed."""
        main = re.search(r"MAIN_FILE\s*=\s*'([^']+)'", q, re.I)
        if not main:
            raise Error(f"STREAMLIT {name}: MAIN_FILE is required")
        folder = (self.version_dir or APP_DIR) / source.lstrip("/")
        path = folder / main.group(1).lstrip("/")
        if not path.is_file():
            where = f"{source.rstrip('/')}/{main.group(1).lstrip('/')}"
            raise Error(f"STREAMLIT {name}: {where} is not in the application package")
        self.streamlits[name] = path
        return [Row((f"Streamlit {name.upper()} successfully created.",), ("STATUS",))]

    def _create_integration(self, q: str, flat: str) -> list[Row]:
        if "CREATE EXTERNAL ACCESS INTEGRATION" not in self.privileges:
            raise Error(
                "Insufficient privileges to operate on account: the manifest does not request "
                "CREATE EXTERNAL ACCESS INTEGRATION"
            )
        m = re.match(
            r"(?is)CREATE\s+(OR\s+REPLACE\s+)?EXTERNAL\s+ACCESS\s+INTEGRATION\s+(IF\s+NOT\s+EXISTS\s+)?"
            r'("(?:[^"]|"")+"|\w+)',
            q,
        )
        if not m:
            raise Error(f"syntax error in {q[:80]!r}")
        name = ident(m.group(3))
        existing = self.account.integrations.get(name)
        if existing and m.group(2):
            return [Row((f"{name} already exists, statement succeeded.",), ("STATUS",))]
        if existing and (not m.group(1) or existing.owner != self.name):
            raise Error(f"Object '{name}' already exists." if not m.group(1) else "Insufficient privileges")
        rules, secrets, enabled = self._integration_properties(q)
        if rules is None or enabled is None:
            raise Error("CREATE EXTERNAL ACCESS INTEGRATION needs ALLOWED_NETWORK_RULES and ENABLED")
        self.account.integrations[name] = Integration(name, self.name, rules, secrets or [], enabled)
        return [Row((f"Integration {name} successfully created.",), ("STATUS",))]

    def _alter_integration(self, q: str) -> list[Row]:
        m = re.match(r'(?is)ALTER\s+EXTERNAL\s+ACCESS\s+INTEGRATION\s+(?:IF\s+EXISTS\s+)?("(?:[^"]|"")+"|\w+)', q)
        name = ident(m.group(1)) if m else ""
        found = self.account.integrations.get(name)
        if found is None or found.owner != self.name:
            raise Error(f"Integration '{name}' does not exist or not authorized.")
        rules, secrets, enabled = self._integration_properties(q)
        found.rules = rules if rules is not None else found.rules
        found.secrets = secrets if secrets is not None else found.secrets
        found.enabled = enabled if enabled is not None else found.enabled
        return [Row(("Statement executed successfully.",), ("STATUS",))]

    def _integration_properties(self, q: str) -> tuple[list[str] | None, list[str] | None, bool | None]:
        def names(key: str) -> list[str] | None:
            m = re.search(rf"{key}\s*=\s*\(([^)]*)\)", q, re.I)
            return None if m is None else [n.strip().lower() for n in m.group(1).split(",") if n.strip()]

        rules, secrets = names("ALLOWED_NETWORK_RULES"), names("ALLOWED_AUTHENTICATION_SECRETS")
        for rule in rules or []:
            if rule not in self.runtime.network_rules:
                raise Error(f"Network rule '{rule.upper()}' does not exist or not authorized.")
        for secret in secrets or []:
            if secret not in self.runtime.secrets:
                raise Error(f"Secret '{secret.upper()}' does not exist or not authorized.")
        m = re.search(r"ENABLED\s*=\s*(TRUE|FALSE)", q, re.I)
        return rules, secrets, None if m is None else m.group(1).upper() == "TRUE"

    # -- specifications ---------------------------------------------------------------------

    def _set_specification(self, q: str) -> list[Row]:
        m = re.match(r"(?is)ALTER\s+APPLICATION\s+SET\s+SPECIFICATION\s+(\w+)", q)
        name = m.group(1).lower() if m else ""
        kind = re.search(r"TYPE\s*=\s*(\w+)", q, re.I)
        hosts = re.search(r"HOST_PORTS\s*=\s*\(([^)]*)\)", q, re.I)
        label = re.search(r"LABEL\s*=\s*'((?:[^']|'')*)'", q, re.I)
        if not (kind and hosts and label) or kind.group(1).upper() != "EXTERNAL_ACCESS":
            raise Error("ALTER APPLICATION SET SPECIFICATION needs TYPE = EXTERNAL_ACCESS, LABEL and HOST_PORTS")
        host_list = sorted(h.strip().strip("'") for h in hosts.group(1).split(",") if h.strip())
        old = self.runtime.specs.get(name)
        if old and old["hosts"] == host_list:  # same definition: same sequence number and status
            old["sql"], old["label"] = q, label.group(1)
        else:  # a new definition needs a new approval
            sequence = old["sequence"] + 1 if old else 1
            self.runtime.specs[name] = {
                "hosts": host_list,
                "host_ports": hosts.group(1),
                "status": "PENDING",
                "sequence": sequence,
                "label": label.group(1),
                "sql": q,
            }
        return [Row(("Statement executed successfully.",), ("STATUS",))]

    def _specifications_view(self, q: str) -> str:
        rows = [
            f"SELECT {literal(n.upper())} AS NAME, {literal(s['status'])} AS STATUS, {s['sequence']} AS SEQUENCE_NUMBER"
            for n, s in self.runtime.specs.items()
        ] or ["SELECT NULL AS NAME, NULL AS STATUS, NULL AS SEQUENCE_NUMBER WHERE FALSE"]
        view = "(" + " UNION ALL ".join(rows) + ") AS application_specifications"
        return re.sub(r"INFORMATION_SCHEMA\.APPLICATION_SPECIFICATIONS", view, q, flags=re.I)

    def approved_hosts(self) -> set[str]:
        return {h for s in self.runtime.specs.values() if s["status"] == "APPROVED" for h in s["hosts"]}

    # -- routines ---------------------------------------------------------------------------

    def _create_routine(self, q: str) -> list[Row]:
        m = re.match(r"(?is)CREATE\s+(?:OR\s+(?:REPLACE|ALTER)\s+)?(?:SECURE\s+)?(PROCEDURE|FUNCTION)\s+([\w.]+)\s*", q)
        if not m:
            raise Error(f"syntax error in {q[:80]!r}")
        kind, name = m.group(1).upper(), m.group(2).lower()
        if "." not in name:
            raise Error(f"{name}: the app creates routines schema-qualified")
        schema = name.split(".")[0]
        if (
            schema not in self.versioned
            and not self.session.execute(
                "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?", [schema.upper()]
            )[0][0]
        ):
            raise Error(f"Schema '{self.name}.{schema.upper()}' does not exist or not authorized.")
        inner, end = _paren(q, m.end())
        params = []
        for p in _top_level_split(inner):
            pm = re.match(r"(?is)(\w+)\s+(\w+(?:\([\d,\s]+\))?)(?:\s+DEFAULT\s+(.*))?$", p)
            if not pm:
                raise Error(f"cannot parse argument {p!r}")
            params.append((pm.group(1).lower(), pm.group(2).upper(), pm.group(3)))
        rest = q[end:]
        body = None
        if (dollar := rest.find("$$")) >= 0:
            body, rest = rest[dollar + 2 : rest.rindex("$$")], rest[:dollar]
        lang = re.search(r"LANGUAGE\s+(\w+)", rest, re.I)
        language = lang.group(1).upper() if lang else "SQL"
        handler = re.search(r"HANDLER\s*=\s*'([^']+)'", rest, re.I)
        caller = bool(re.search(r"EXECUTE\s+AS\s+CALLER", rest, re.I))
        if caller and self.phase == "setup":
            raise Error(f"{name}: a setup script cannot create EXECUTE AS CALLER procedures")
        eais = re.search(r"EXTERNAL_ACCESS_INTEGRATIONS\s*=\s*\(([^)]*)\)", rest, re.I)
        integrations = [ident(n) for n in _top_level_split(eais.group(1))] if eais else []
        for eai in integrations:
            found = self.account.integrations.get(eai)
            if found is None or found.owner != self.name:
                raise Error(f"Integration '{eai}' does not exist or not authorized.")
        secrets: dict[str, str] = {}
        sm = re.search(r"SECRETS\s*=\s*\(([^)]*)\)", rest, re.I)
        for alias, target in re.findall(r"'(\w+)'\s*=\s*([\w.]+)", sm.group(1) if sm else ""):
            target = target.lower()
            if target not in self.runtime.secrets:
                raise Error(f"Secret '{target.upper()}' does not exist or not authorized.")
            if not any(target in self.account.integrations[e].secrets for e in integrations):
                raise Error(f"Secret '{target.upper()}' is not allowed by the routine's external access integrations")
            secrets[alias] = target
        self.runtime.secret_bindings.update(secrets)
        if language == "PYTHON":
            if not handler:
                raise Error(f"{name}: a Python routine needs HANDLER")
            for path in re.findall(r"IMPORTS\s*=\s*\(\s*'([^']+)'", rest, re.I):
                if self.version_dir and not (self.version_dir / path.lstrip("/")).exists():
                    raise Error(f"{name}: IMPORTS {path} is not in the application package")
        routine = Routine(
            kind,
            name,
            params,
            language,
            handler.group(1) if handler else None,
            body,
            integrations,
            secrets,
            caller,
            self.phase == "setup",
            q,
        )
        same = [r for r in self.routines.get(name, []) if [p[1] for p in r.params] != [p[1] for p in params]]
        self.routines[name] = [*same, routine]
        signature = f"{name}({', '.join(f'{p} {ty}' for p, ty, _ in params)})"
        self.runtime.routines[signature] = q
        if kind == "FUNCTION" and language == "PYTHON":
            self._register_udf(name)
        return [Row((f"Function {name.upper()} successfully created.",), ("STATUS",))]

    def _register_udf(self, name: str) -> None:
        """A Python UDF as a DuckDB macro (one body per arity) over a Python function that runs
        the routine's handler the way _call does: its secrets, its network rules."""
        duck = self.conn._duck_conn
        bodies = []
        for index, routine in enumerate(self.routines[name]):
            for arity in range(routine.required, len(routine.params) + 1):
                fn = f"_udf_{id(self)}_{name.replace('.', '_')}_{index}_{arity}".lower()
                with contextlib.suppress(Exception):
                    duck.remove_function(fn)
                types_ = [DUCK_TYPES[p[1]] for p in routine.params[:arity]]

                # Defaults are constants: evaluated now, as code inside a query cannot run SQL.
                extra = [self._scalar(self.session, f"SELECT {d}") for _, _, d in routine.params[arity:]]
                entry = self._udf_entry(routine, arity, extra)
                duck.create_function(fn, entry, types_, t.VARCHAR, side_effects=True)
                names = ", ".join(p[0] for p in routine.params[:arity])
                bodies.append(f"({names}) AS json({fn}({names}))")
        duck.execute(f"CREATE OR REPLACE MACRO {self.name}.{name}" + ", ".join(bodies))

    def _udf_entry(self, routine: Routine, arity: int, extra: list[Any]) -> Any:
        """DuckDB reads a Python function's arity from its signature: one entry point per arity."""

        def run(*args: Any) -> str:
            return json.dumps(self.invoke(routine, [*args, *extra]), default=str)

        entries = {
            0: lambda: run(),
            1: lambda a: run(a),
            2: lambda a, b: run(a, b),
            3: lambda a, b, c: run(a, b, c),
            4: lambda a, b, c, d: run(a, b, c, d),
        }
        return entries[arity]

    def resolve(self, name: str, arity: int) -> Routine:
        parts = name.lower().split(".")
        if len(parts) == 3 and parts[0] == self.name.lower():
            parts = parts[1:]
        key = ".".join(parts)
        for routine in self.routines.get(key, []):
            if routine.required <= arity <= len(routine.params):
                return routine
        raise Error(f"SQL compilation error:\nUnknown user-defined procedure {key.upper()}")

    def _call(self, session: FakeSession, q: str) -> list[Row]:
        m = re.match(r"(?is)CALL\s+([\w.]+)\s*\(", q)
        if not m:
            raise Error(f"syntax error in {q[:80]!r}")
        inner, _ = _paren(q, m.end() - 1)
        values = list(self.session.execute("SELECT " + inner)[0]) if inner.strip() else []
        routine = self.resolve(m.group(1), len(values))
        role = getattr(session, "role", None)
        if role is not None:
            self._need(role, "USAGE", ("PROCEDURE",), routine.name)
        if self.phase == "setup" and routine.language != "SQL":
            raise Error(
                f"The setup script may run SQL only: CALL {routine.name}() would run a {routine.language} "
                "procedure (create it in the setup script and let the consumer call it)"
            )
        result = self.invoke(routine, values)
        return [Row((result,), (routine.name.split(".")[-1].upper(),))]

    def invoke(self, routine: Routine, values: list[Any]) -> Any:
        """Runs a routine as its owner (the app): SQL through the Scripting interpreter, Python
        through its handler with only its own secrets and, if bound and approved, the network."""
        if routine.language == "SQL":
            variables = {}
            for i, (pname, _, default) in enumerate(routine.params):
                variables[pname] = values[i] if i < len(values) else self._scalar(self.session, f"SELECT {default}")
            return Interpreter(self.session.execute, variables).execute_block(routine.body or "")
        module, fn = (routine.handler or "").rsplit(".", 1)
        handler = getattr(importlib.import_module(module), fn)
        defaults = [self._scalar(self.session, f"SELECT {d}") for _, _, d in routine.params[len(values) :]]
        args = values + defaults
        with self.account.running(self, routine):
            if routine.kind == "PROCEDURE":
                return handler(self.session, *args)
            return handler(*args)

    # -- tasks ------------------------------------------------------------------------------

    def fire_task(self, task: str = "config.load_all_task") -> dict[str, Any]:
        """One scheduled run: the task's body runs as the app. The target is looked up now, in
        the version installed now; after SUSPEND_AFTER_FAILURES failures in a row it suspends."""
        spec = self.runtime.tasks[task]
        if spec["state"] != "started":
            raise Error(f"Task {task.upper()} is suspended: nothing runs")
        body = re.search(r"(?is)\bAS\s+(CALL\s+.*)$", spec["sql"]).group(1)
        run: dict[str, Any] = {"task": task, "body": body}
        try:
            run["result"] = self.session.execute(body)[0][0]
            run["state"] = "SUCCEEDED"
            spec["failures"] = 0
        except Exception as exc:  # noqa: BLE001 - a task run records any failure
            run["state"], run["error"] = "FAILED", str(exc)
            spec["failures"] = spec.get("failures", 0) + 1
            if spec["failures"] >= SUSPEND_AFTER_FAILURES:
                spec["state"] = "suspended"
        self.task_history.append(run)
        return run


def copy_package(target: Path, edit: Any = None, manifest: Any = None) -> Path:
    """A copy of the app's package (what a provider would publish next), its setup script and
    manifest optionally edited: `edit(text) -> text`."""
    shutil.copytree(APP_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    for name, change in (("setup_script.sql", edit), ("manifest.yml", manifest)):
        if change:
            (target / name).write_text(change((target / name).read_text()))
    return target


class Account:
    """A Snowflake account: one fakesnow engine, account-level integrations, installed apps."""

    def __init__(self, timezone: str | None = None) -> None:
        self._patch = fakesnow.patch()
        self._patch.__enter__()
        self.integrations: dict[str, Integration] = {}
        self.apps: dict[str, InstalledApp] = {}
        # URL prefix -> where requests to it really go (the simulator stands in for Orchestra).
        self.redirects: dict[str, str] = {}
        self._current: InstalledApp | None = None
        self._secrets: dict[str, str] | None = None
        # The routine running now (its PACKAGES decide what its handler can import).
        self.routine: Routine | None = None
        self._timezone = timezone
        module = types.ModuleType("_snowflake")
        module.get_generic_secret_string = self._secret  # type: ignore[attr-defined]
        sys.modules["_snowflake"] = module

    def create(self, name: str) -> InstalledApp:
        app = InstalledApp(self, name)
        self.apps[app.name] = app
        if self._timezone:
            self.set_timezone(self._timezone)
        self._current = self._current or app
        return app

    def install(self, name: str = "ORCHESTRA_DATA_APP", version_dir: Path = APP_DIR) -> InstalledApp:
        if name.upper() in self.apps:
            raise Error(f"Object '{name.upper()}' already exists.")
        app = self.create(name)
        app.run_setup(version_dir / "setup_script.sql")
        return app

    def upgrade(self, name: str, version_dir: Path) -> list[str]:
        return self.apps[name.upper()].run_setup(version_dir / "setup_script.sql")

    def approve(
        self, name: str, spec: str = "orchestra_api", sequence_number: int | None = None, approve: bool = True
    ) -> None:
        """ALTER APPLICATION <name> APPROVE|DECLINE SPECIFICATION <spec> SEQUENCE_NUMBER = n, then
        the app's after_specification_change callback (asynchronous: its errors are recorded)."""
        app = self.apps[name.upper()]
        found = app.runtime.specs.get(spec.lower())
        if found is None:
            raise Error(f"Specification '{spec.upper()}' does not exist")
        number = found["sequence"] if sequence_number is None else sequence_number
        if number != found["sequence"]:
            raise Error(f"Sequence number {number} is not the current one ({found['sequence']}) for {spec.upper()}")
        found["status"] = "APPROVED" if approve else "DECLINED"
        callback = (app.manifest.get("lifecycle_callbacks") or {}).get("after_specification_change")
        if callback:
            record: dict[str, Any] = {"callback": callback, "spec": spec.upper()}
            try:
                record["result"] = app.invoke(app.resolve(callback, 1), [spec.upper()])
            except Exception as exc:  # noqa: BLE001 - asynchronous: the approval stands
                record["error"] = str(exc)
            app.callback_history.append(record)

    def drop(self, name: str, cascade: bool = False) -> None:
        app = self.apps[name.upper()]
        owned = [i.name for i in self.integrations.values() if i.owner == app.name]
        if owned and not cascade:
            raise Error(
                f"Cannot drop application {app.name}: it owns objects outside itself ({', '.join(owned)}). "
                f"Use DROP APPLICATION {app.name} CASCADE."
            )
        for integration in owned:
            del self.integrations[integration]
        # fakesnow cannot drop the database a connection uses: empty it instead.
        duck = app.conn._duck_conn
        for (schema,) in duck.execute(
            "SELECT schema_name FROM information_schema.schemata WHERE catalog_name = ? "
            "AND schema_name NOT IN ('information_schema', 'main', 'pg_catalog')",
            [app.name],
        ).fetchall():
            duck.execute(f'DROP SCHEMA IF EXISTS "{app.name}"."{schema}" CASCADE')
        app.conn.close()
        del self.apps[app.name]

    def set_timezone(self, zone: str) -> None:
        for app in self.apps.values():
            app.conn._duck_conn.execute(f"SET GLOBAL TimeZone = '{zone}'")
            return

    # -- the runtime inside a routine -------------------------------------------------------

    def _secret(self, alias: str) -> str:
        app = self._current
        bindings = self._secrets if self._secrets is not None else (app.runtime.secret_bindings if app else {})
        target = bindings.get(alias)
        if app is None or target is None or target not in app.runtime.secrets:
            raise ValueError(f"secret {alias!r} is not bound to this function or procedure")
        return app.runtime.secrets[target]

    @contextlib.contextmanager
    def running(self, app: InstalledApp, routine: Routine) -> Iterator[None]:
        """Inside one routine: only its secrets, and the network only as its integrations and the
        approved specification allow (other connections fail as unreachable)."""
        allowed: set[str] = set()
        for name in routine.integrations:
            integration = self.integrations.get(name)
            if integration and integration.enabled and integration.owner == app.name:
                for rule in integration.rules:
                    hosts = {h.strip().strip("'") for h in app.runtime.network_rules.get(rule, "").split(",")}
                    allowed |= hosts & app.approved_hosts()
        saved = (self._current, self._secrets, self.routine)
        self._current, self._secrets, self.routine = app, routine.secrets, routine
        original = requests.adapters.HTTPAdapter.send
        redirects = self.redirects

        def send(adapter: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
            url = request.url
            parts = urlsplit(url)
            host = f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"
            if host not in allowed and not (allowed and parts.hostname in LOOPBACK):
                # Blocked egress looks to the handler like a host it cannot connect to: requests wraps
                # urllib3's NewConnectionError, as for a refused connection or an unknown name.
                blocked = NewConnectionError(
                    None,
                    f"Failed to connect to {host}: {routine.name} may not reach it (no external access "
                    "integration allows it, or its app specification is not approved)",
                )
                raise requests.ConnectionError(MaxRetryError(None, url, blocked))  # type: ignore[arg-type]
            for prefix, target in redirects.items():
                if url.startswith(prefix):
                    request.url = target + url[len(prefix) :]
            return original(adapter, request, *args, **kwargs)

        requests.adapters.HTTPAdapter.send = send  # type: ignore[method-assign]
        try:
            yield
        finally:
            requests.adapters.HTTPAdapter.send = original  # type: ignore[method-assign]
            self._current, self._secrets, self.routine = saved

    def close(self) -> None:
        for app in list(self.apps.values()):
            with contextlib.suppress(Exception):
                app.conn.close()
        self.apps.clear()
        self._patch.__exit__(None, None, None)
        sys.modules.pop("_snowflake", None)


__all__ = ["Account", "InstalledApp", "Integration", "Routine", "ScriptingError"]
