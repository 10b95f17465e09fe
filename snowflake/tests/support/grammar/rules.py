"""The rule registry: one Rule per statement kind, each with the reference page its syntax comes
from, and the checks several kinds share. The rules themselves are in rules_app.py, rules_code.py
and rules_ddl.py, registered in that order (the first rule whose leading words fit is used)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .notation import Node, notation
from .tokens import Token, _words

DOCS = "https://docs.snowflake.com/en/sql-reference/sql/"


@dataclass
class Rule:
    kind: str
    url: str
    syntax: Node
    checks: tuple[Callable[[list[Token]], str | None], ...] = ()
    sqlglot: bool = False  # also parse with sqlglot (queries and expressions inside)


RULES: list[Rule] = []


def rule(
    kind: str, page: str, syntax: str, *checks: Callable[[list[Token]], str | None], sqlglot: bool = False
) -> None:
    url = page if page.startswith("http") else DOCS + page
    RULES.append(Rule(kind, url, notation(syntax), checks, sqlglot))


def _not_both_replace_and_if_not_exists(tokens: list[Token]) -> str | None:
    # https://docs.snowflake.com/en/sql-reference/sql/create : "The OR REPLACE and IF NOT EXISTS
    # clauses are mutually exclusive."
    w = " ".join(_words(tokens[:8]))
    if "OR REPLACE" in w and "IF NOT EXISTS" in w:
        return "OR REPLACE and IF NOT EXISTS cannot be used together"
    return None


def _property(tokens: list[Token], name: str) -> list[Token] | None:
    """The value tokens of `NAME = value` or `NAME = ( ... )` at depth 0, if present."""
    depth = 0
    for k, t in enumerate(tokens):
        if t.text == "(":
            depth += 1
        elif t.text == ")":
            depth -= 1
        elif depth == 0 and t.kind == "word" and t.value == name and k + 1 < len(tokens) and tokens[k + 1].text == "=":
            v = tokens[k + 2 : k + 3]
            if v and v[0].text == "(":
                d, j = 0, k + 2
                while j < len(tokens):
                    d += {"(": 1, ")": -1}.get(tokens[j].text, 0)
                    if d == 0:
                        break
                    j += 1
                return tokens[k + 3 : j]
            return v
    return None


def _property_after(tokens: list[Token], word: str) -> str | None:
    for k, t in enumerate(tokens[:-1]):
        if t.kind == "word" and t.value == word:
            return tokens[k + 1].value
    return None


_NAME = "<name>"
_IF_NOT_EXISTS = "[ IF NOT EXISTS ]"
_CREATE = "CREATE [ OR REPLACE ]"
_COMMENT = "[ COMMENT = <literal> ]"
