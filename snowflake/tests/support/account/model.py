"""What the account holds and how names and argument lists are read: identifiers, integrations,
routines, and the error every refused statement raises."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import snowflake.connector

Error = snowflake.connector.errors.ProgrammingError


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
