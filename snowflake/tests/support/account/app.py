"""An installed app: its database, sessions (as the app or as an application role), install and
upgrade by its setup script, Streamlit objects, and the statement hook that applies the rules."""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import snowflake.connector
import yaml

from ..fake_snowflake import APP_DIR, FakeSession, Row, Runtime, split_statements
from ..scripting import Interpreter
from .access import AccessControl
from .egress import ExternalAccess
from .model import Error, Routine
from .routines import Routines
from .tasks import Tasks

if TYPE_CHECKING:
    from .account import Account


class InstalledApp(AccessControl, ExternalAccess, Routines, Tasks):
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

    # -- Streamlit ----------------------------------------------------------------------------

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
