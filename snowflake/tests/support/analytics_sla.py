"""Runs the body of analytics.set_pipeline_sla (a Snowflake Scripting procedure in analytics.sql) on
the stand-in, which has no procedures. It interprets only the constructs that body uses, as
documented in https://docs.snowflake.com/en/developer-guide/snowflake-scripting/index, and refuses
anything else so the SQL cannot quietly drift outside what is tested:

- DECLARE: `name EXCEPTION (code, 'message');` and `name TYPE;`
- `name := expr;`, `LET name TYPE := expr;`, `IF (cond) THEN ... END IF;`, `RAISE name;`,
  `BEGIN ... EXCEPTION WHEN OTHER THEN ... END;`, `RETURN expr;`
- any other statement is SQL run with `:name` replaced by the variable's value.
Expressions run as `SELECT <expr>` with variables (bare names) replaced by literals, as Snowflake
evaluates them in the SQL engine (support/scripting.py's substitution). That interpreter refuses
EXCEPTION handlers on purpose; this procedure needs RAISE and one WHEN OTHER handler, modelled here.
"""

from __future__ import annotations

import re
from typing import Any

import snowflake.connector

from support.analytics_history import ANALYTICS_SQL, analytics_statements
from support.scripting import substitute


class ProcedureError(snowflake.connector.errors.ProgrammingError):
    """A RAISE of a declared exception: Snowflake reports its code and message."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(msg=message, errno=code)
        self.code = code
        self.message = message


_OPENS = re.compile(r"(?:^|\bTHEN\b|\bELSE\b)\s*(?:IF\s*\(|BEGIN\b)", re.I)
_CLOSES = re.compile(r"^\s*END(\s+IF)?\s*$", re.I)


def _statements(body: str) -> list[str]:
    """Top-level statements of a block body (split at `;`); IF ... END IF and BEGIN ... END stay whole."""
    out, current, depth = [], [], 0
    for chunk in _outside_semicolons(body):
        current.append(chunk)
        depth += len(_OPENS.findall(chunk.strip())) - (1 if _CLOSES.match(chunk) else 0)
        if depth == 0:
            out.append(";".join(current).strip())
            current = []
    if depth or any(c.strip() for c in current):
        raise ValueError(f"unbalanced block in procedure body: {';'.join(current).strip()[:80]!r}")
    return [s for s in out if s]


def _outside_semicolons(body: str) -> list[str]:
    chunks, current, quoted = [], "", False
    for c in body:
        if c == "'":
            quoted = not quoted
        if c == ";" and not quoted:
            chunks.append(current)
            current = ""
        else:
            current += c
    if current.strip():
        chunks.append(current)
    return chunks


class Procedure:
    """One SQL procedure of analytics.sql: its arguments, declarations and body."""

    def __init__(self, name: str, sql: str | None = None) -> None:
        text = next(
            s for s in analytics_statements(sql) if re.match(rf"CREATE\s+OR\s+REPLACE\s+PROCEDURE\s+{name}\b", s, re.I)
        )
        args = re.search(r"PROCEDURE\s+[\w.]+\s*\((.*?)\)\s*RETURNS", text, re.I | re.S)
        assert args, f"{name}: no argument list"
        self.args = [a.split()[0].lower() for a in args.group(1).split(",") if a.strip()]
        body = text.split("$$")[1]
        m = re.match(r"\s*DECLARE(.*?)\bBEGIN\b(.*)\bEND;\s*$", body, re.S | re.I)
        assert m, f"{name}: expected DECLARE ... BEGIN ... END;"
        self.exceptions: dict[str, tuple[int, str]] = {}
        self.declared: list[str] = []
        for decl in [d.strip() for d in m.group(1).split(";\n") if d.strip()]:
            exc = re.match(r"(\w+)\s+EXCEPTION\s*\(\s*(-?\d+)\s*,\s*'((?:[^']|'')*)'\s*\)", decl, re.S | re.I)
            if exc:
                self.exceptions[exc.group(1).lower()] = (int(exc.group(2)), exc.group(3).replace("''", "'"))
            elif re.match(r"^\w+\s+\w+;?$", decl):
                self.declared.append(decl.split()[0].lower())
            else:
                raise ValueError(f"{name}: unsupported declaration {decl!r}")
        self.body = _statements(m.group(2))
        self.name = name

    def call(self, session: Any, *values: Any) -> Any:
        if len(values) != len(self.args):
            raise ValueError(f"{self.name} takes {len(self.args)} arguments")
        env: dict[str, Any] = dict(zip(self.args, values, strict=True))
        env.update({d: None for d in self.declared})
        try:
            self._run(session, self.body, env)
        except _Return as ret:
            return ret.value
        return None

    # -- evaluation -----------------------------------------------------------------------------
    def _eval(self, session: Any, expr: str, env: dict[str, Any]) -> Any:
        return session.sql(f"SELECT {substitute(expr, env, bare=True)}").collect()[0][0]

    def _run(self, session: Any, statements: list[str], env: dict[str, Any]) -> None:
        for statement in statements:
            self._one(session, statement, env)

    def _one(self, session: Any, s: str, env: dict[str, Any]) -> None:
        flat = s.rstrip(";").strip()
        if m := re.match(r"IF\s*\((.*?)\)\s*THEN\b(.*)\bEND IF$", flat, re.S | re.I):
            if self._eval(session, m.group(1), env):
                self._run(session, _statements(m.group(2)), env)
        elif m := re.match(r"BEGIN\b(.*?)\bEXCEPTION\s+WHEN\s+OTHER\s+THEN\b(.*)\bEND$", flat, re.S | re.I):
            try:
                self._run(session, _statements(m.group(1)), env)
            except ProcedureError:
                raise
            except Exception:  # noqa: BLE001 - WHEN OTHER catches every error, as in Snowflake
                self._run(session, _statements(m.group(2)), env)
        elif m := re.match(r"RAISE\s+(\w+)$", flat, re.I):
            code, message = self.exceptions[m.group(1).lower()]
            raise ProcedureError(code, message)
        elif m := re.match(r"(?:LET\s+)?(\w+)(?:\s+\w+)?\s*:=\s*(.*)$", flat, re.S | re.I):
            env[m.group(1).lower()] = self._eval(session, m.group(2), env)
        elif m := re.match(r"RETURN\s+(.*)$", flat, re.S | re.I):
            raise _Return(self._eval(session, m.group(1), env))
        elif re.match(r"(INSERT|DELETE|UPDATE|MERGE|SELECT)\b", flat, re.I):
            session.sql(substitute(flat, env, bare=False)).collect()
        else:
            raise ValueError(f"{self.name}: statement the stand-in does not interpret: {flat[:80]!r}")


class _Return(Exception):
    """RETURN: unwinds nested blocks with the value."""

    def __init__(self, value: Any) -> None:
        self.value = value


def set_pipeline_sla(
    session: Any,
    pipeline: str | None,
    max_duration_minutes: float | None,
    latest_finish_time: str | None,
    time_zone: str | None,
) -> Any:
    """CALL analytics.set_pipeline_sla(...), its body read from analytics.sql each time."""
    assert ANALYTICS_SQL.exists()
    return Procedure("analytics.set_pipeline_sla").call(
        session, pipeline, max_duration_minutes, latest_finish_time, time_zone
    )
