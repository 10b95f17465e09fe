"""A small Snowflake Scripting interpreter for the stand-in: the subset the app's SQL uses, and an
error for anything else (so the app cannot start relying on what the stand-in would fake).

Supported, as in https://docs.snowflake.com/en/developer-guide/snowflake-scripting/index:
`DECLARE name TYPE [DEFAULT expr];` then `BEGIN ... END`; `LET name := expr`; `name := expr`;
`IF (cond) THEN ... [ELSE ...] END IF`; `EXECUTE IMMEDIATE expr`; `SELECT ... INTO :a FROM ...`;
`RETURN expr`; any other statement runs as SQL with `:name` bound to the variable's value.
Expressions are evaluated by the SQL engine (`SELECT <expr>`), variables replaced by literals.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import snowflake.connector

Run = Callable[[str], list[Any]]


class ScriptingError(snowflake.connector.errors.ProgrammingError):
    pass


def literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _split(text: str) -> list[str]:
    """Top-level statements: `;` outside quotes and `$$` blocks ends one."""
    out, current, i = [], [], 0
    quote: str | None = None
    while i < len(text):
        c = text[i]
        if quote:
            current.append(c)
            if text.startswith(quote, i):
                if quote == "'" and text.startswith("''", i):
                    current.append("'")
                    i += 2
                    continue
                if quote == "$$":
                    current.append("$")
                    i += 1
                quote = None
            i += 1
            continue
        if text.startswith("--", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
            continue
        if c in "'\"" or text.startswith("$$", i):
            quote = "$$" if text.startswith("$$", i) else c
            current.append(c)
            if quote == "$$":
                current.append("$")
                i += 1
        elif c == ";":
            out.append("".join(current).strip())
            current = []
        else:
            current.append(c)
        i += 1
    if "".join(current).strip():
        out.append("".join(current).strip())
    return [s for s in out if s]


def substitute(text: str, variables: dict[str, Any], bare: bool) -> str:
    """`:name` (and, in expressions, a bare `name`) replaced by the variable's literal; strings and
    quoted identifiers are left alone."""
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c in "'\"":
            j = i + 1
            while j < len(text):
                if text[j] == c and text[j + 1 : j + 2] == c:
                    j += 2
                    continue
                if text[j] == c:
                    break
                j += 1
            out.append(text[i : j + 1])
            i = j + 1
            continue
        m = re.match(r":?[A-Za-z_]\w*", text[i:])
        if m and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] in "_.$")):
            word = m.group(0)
            name = word.lstrip(":").lower()
            if name in variables and (word.startswith(":") or bare) and text[i + len(word) : i + len(word) + 1] != "(":
                out.append(literal(variables[name]))
                i += len(word)
                continue
            out.append(word)
            i += len(word)
            continue
        out.append(c)
        i += 1
    return "".join(out)


class Interpreter:
    def __init__(self, run: Run, variables: dict[str, Any] | None = None) -> None:
        self.run = run
        self.vars: dict[str, Any] = {k.lower(): v for k, v in (variables or {}).items()}

    def evaluate(self, expr: str) -> Any:
        rows = self.run("SELECT " + substitute(expr, self.vars, bare=True))
        return rows[0][0] if rows else None

    def execute_block(self, block: str) -> Any:
        text = block.strip().rstrip(";").strip()
        m = re.match(r"(?is)^(?:DECLARE\s+(.*?))?\bBEGIN\b(.*)\bEND$", text)
        if not m:
            raise ScriptingError(f"Not a Snowflake Scripting block (DECLARE ... BEGIN ... END): {text[:80]!r}")
        for decl in _split(m.group(1) or ""):
            d = re.match(r"(?is)^(\w+)\s+(\w+(?:\([\d,\s]+\))?)(?:\s+(?:DEFAULT|:=)\s+(.*))?$", decl)
            if not d:
                raise ScriptingError(f"The stand-in does not model this declaration: {decl[:80]!r}")
            self.vars[d.group(1).lower()] = self.evaluate(d.group(3)) if d.group(3) else None
        if re.search(r"(?i)\bEXCEPTION\b", m.group(2)):
            raise ScriptingError("The stand-in does not model EXCEPTION handlers (they would hide failures).")
        done, value = self._statements(_split(m.group(2)))
        return value if done else None

    def _statements(self, statements: list[str]) -> tuple[bool, Any]:
        # A stack of (running this branch?, a branch was taken?) for nested IF ... END IF.
        stack: list[tuple[bool, bool]] = []
        for raw in statements:
            statement = raw.strip()
            while True:
                m_if = re.match(r"(?is)^IF\s*\((.*)\)\s*THEN\b\s*(.*)$", statement)
                m_else = re.match(r"(?is)^ELSE\b\s*(.*)$", statement)
                if m_if:
                    active = all(a for a, _ in stack)
                    taken = bool(active and self._truth(m_if.group(1)))
                    stack.append((taken, taken))
                    statement = m_if.group(2).strip()
                elif m_else and stack:
                    _, taken = stack.pop()
                    stack.append((not taken, True))
                    statement = m_else.group(1).strip()
                else:
                    break
            if re.match(r"(?is)^END\s+IF$", statement):
                if not stack:
                    raise ScriptingError("END IF without IF")
                stack.pop()
                continue
            if not statement or not all(a for a, _ in stack):
                continue
            done, value = self._one(statement)
            if done:
                return True, value
        if stack:
            raise ScriptingError("IF without END IF")
        return False, None

    def _truth(self, cond: str) -> bool:
        return bool(self.evaluate(f"CASE WHEN ({cond}) THEN 1 ELSE 0 END"))

    def _one(self, statement: str) -> tuple[bool, Any]:
        if m := re.match(r"(?is)^RETURN\s+(.*)$", statement):
            return True, self.evaluate(m.group(1))
        if m := re.match(r"(?is)^(?:LET\s+)?(\w+)(?:\s+\w+)?\s*:=\s*(.*)$", statement):
            self.vars[m.group(1).lower()] = self.evaluate(m.group(2))
            return False, None
        if m := re.match(r"(?is)^EXECUTE\s+IMMEDIATE\s+(.*)$", statement):
            expr = m.group(1).strip()
            sql = expr[2:-2] if expr.startswith("$$") else str(self.evaluate(expr))
            self.run(sql)
            return False, None
        if m := re.match(r"(?is)^(SELECT\s+.*?)\s+INTO\s+((?::\w+\s*,\s*)*:\w+)\s+(FROM\s+.*)$", statement):
            targets = [t.strip().lstrip(":").lower() for t in m.group(2).split(",")]
            rows = self.run(substitute(f"{m.group(1)} {m.group(3)}", self.vars, bare=False))
            for i, name in enumerate(targets):
                if name not in self.vars:
                    raise ScriptingError(f"SELECT INTO an undeclared variable {name!r}")
                self.vars[name] = rows[0][i] if rows else None
            return False, None
        if re.match(r"(?is)^(FOR|WHILE|REPEAT|LOOP|CASE|OPEN|FETCH|CLOSE|RAISE|BEGIN|DECLARE)\b", statement):
            raise ScriptingError(f"The stand-in does not model this Snowflake Scripting construct: {statement[:60]!r}")
        self.run(substitute(statement, self.vars, bare=False))
        return False, None
