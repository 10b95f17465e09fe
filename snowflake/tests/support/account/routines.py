"""Routines: CREATE PROCEDURE / FUNCTION as Snowflake checks it (schema, integrations, secrets,
imports), Python UDFs as DuckDB macros, CALL, and running a routine as its owner."""

from __future__ import annotations

import contextlib
import importlib
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb.sqltypes as t

from ..fake_snowflake import FakeSession, Row, Runtime
from ..scripting import Interpreter
from .model import Error, Routine, _paren, _top_level_split, ident

if TYPE_CHECKING:
    from .account import Account


DUCK_TYPES = {"NUMBER": t.BIGINT, "VARCHAR": t.VARCHAR, "TIMESTAMP_TZ": t.TIMESTAMP_TZ}


class Routines:
    """The routines of an installed app (a part of InstalledApp)."""

    account: Account
    name: str
    conn: Any
    runtime: Runtime
    session: FakeSession
    routines: dict[str, list[Routine]]
    versioned: set[str]
    version_dir: Path | None
    phase: str

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
