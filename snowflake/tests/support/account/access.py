"""Access control: what an application role may read or call, from the grants the app made
(USAGE on schemas and routines, SELECT on tables and views; never writes)."""

from __future__ import annotations

import re

from ..fake_snowflake import Runtime
from .model import Error


class AccessControl:
    """The grant checks of an installed app (a part of InstalledApp)."""

    name: str
    runtime: Runtime

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
