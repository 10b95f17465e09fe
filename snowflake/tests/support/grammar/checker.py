"""The entry points: which rule a statement falls under, and the check of one statement against
its rule, its extra checks, sqlglot and the bodies nested in it (task AS, EXECUTE IMMEDIATE,
SQL procedures)."""

from __future__ import annotations

import re
from functools import lru_cache

import sqlglot
from sqlglot import exp

from . import rules_app, rules_code, rules_ddl  # noqa: F401 - registers the rules, in this order
from .notation import Matcher
from .rules import RULES, Rule, _property_after
from .scripting import check_block
from .tokens import GrammarError, Token, _binds, _words, tokenize

# Statements sqlglot alone checks (no syntax block of ours): queries and plain DML.
_SQLGLOT_ONLY = {
    "SELECT": exp.Query, "WITH": exp.Query, "INSERT": exp.Insert, "UPDATE": exp.Update, "DELETE": exp.Delete
}


def statement_kind(sql: str) -> str:
    try:
        return _rule_for(_binds(tokenize(sql))).kind
    except GrammarError as e:
        return f"(unknown: {e})"


_CREATE_MODIFIERS = {"OR", "REPLACE", "ALTER", "SECURE", "TRANSIENT", "TEMP", "TEMPORARY", "RECURSIVE"}


def _rule_for(tokens: list[Token]) -> Rule:
    words = _words(tokens[:8])
    head = " ".join(words)
    for r in RULES:
        lead = r.kind.replace("...", "").split()
        if r.kind == "GRANT ... TO APPLICATION ROLE":
            if words[:1] == ["GRANT"] and words[1:3] != ["APPLICATION", "ROLE"]:
                return r
            continue
        if r.kind == "SET":
            if words[:1] in (["SET"], ["UNSET"]):
                return r
            continue
        if r.kind == "DESCRIBE":
            if words[:1] in (["DESCRIBE"], ["DESC"]):
                return r
            continue
        if r.kind == "EXECUTE IMMEDIATE" and words[2:3] == ["FROM"]:
            continue
        if r.kind.startswith("CREATE") and words[:1] == ["CREATE"]:
            body = [w for w in words[1:] if w not in _CREATE_MODIFIERS]
            versioned = "VERSIONED" in words[:5]
            if body[: len(lead) - 1] == lead[1:] or (r.kind == "CREATE OR ALTER VERSIONED SCHEMA" and versioned):
                if r.kind == "CREATE SCHEMA" and "VERSIONED" in words[:5]:
                    continue
                return r
            continue
        if words[: len(lead)] == lead:
            return r
    raise GrammarError(
        f"no grammar for this kind of statement ({head[:60]}...): "
        "add its syntax block to a rules_*.py module of tests/support/grammar/"
    )


@lru_cache(maxsize=4096)
def check(sql: str) -> str:
    """Checks one statement; returns its kind or raises GrammarError naming the rule and page."""
    return check_tokens(_binds(tokenize(sql)), where=sql.strip().splitlines()[0][:80] if sql.strip() else "")


def check_tokens(tokens: list[Token], where: str = "") -> str:
    while tokens and tokens[-1].text == ";":
        tokens = tokens[:-1]
    if not tokens:
        raise GrammarError("empty statement")
    head = tokens[0].value if tokens[0].kind == "word" else tokens[0].text
    if head in ("BEGIN", "DECLARE"):
        check_block(_text(tokens), where, check_tokens)
        return "Snowflake Scripting block"
    if head in _SQLGLOT_ONLY or (head == "(" and len(tokens) > 1 and tokens[1].value in ("SELECT", "WITH")):
        _check_sqlglot(tokens, _SQLGLOT_ONLY.get(head, exp.Query), where)
        return head
    r = _rule_for(tokens)
    m = Matcher(tokens)
    if len(tokens) not in m.ends(r.syntax, 0):
        bad = tokens[min(m.furthest, len(tokens) - 1)]
        raise GrammarError(
            f"{r.kind}: not what {r.url} accepts; the syntax stops making sense at "
            f"{bad.text!r} (token {min(m.furthest, len(tokens) - 1) + 1} of {len(tokens)}) in: {where}"
        )
    for c in r.checks:
        problem = c(tokens)
        if problem:
            raise GrammarError(f"{r.kind}: {problem} ({r.url}) in: {where}")
    if r.sqlglot:
        _check_sqlglot(tokens, exp.Expression, where)
    _check_nested(r, tokens, where)
    return r.kind


def _check_nested(r: Rule, tokens: list[Token], where: str) -> None:
    words = _words(tokens)
    if r.kind == "EXECUTE IMMEDIATE":
        body = tokens[2]
        # Only a literal can be read before it runs; a string built at run time ('...' || name)
        # is checked when the stand-in executes it (the statement hook in fake_snowflake.py).
        if body.kind in ("string", "dollar") and (len(tokens) == 3 or words[3] == "USING"):
            inner = body.value.strip()
            if re.match(r"(?is)^(DECLARE|BEGIN)\b", inner):
                check_block(inner, f"EXECUTE IMMEDIATE block in {where}", check_tokens)
            else:
                check_tokens(_binds(tokenize(inner)), where=f"EXECUTE IMMEDIATE in {where}")
    elif r.kind in ("CREATE TASK", "ALTER TASK") and "AS" in words:
        at = len(words) - 1 - words[::-1].index("AS")
        check_tokens(tokens[at + 1 :], where=f"task body in {where}")
    elif r.kind == "CREATE PROCEDURE" and _property_after(tokens, "LANGUAGE") == "SQL":
        body = tokens[-1]
        if body.kind in ("string", "dollar"):
            check_block(body.value.strip(), f"SQL procedure body in {where}", check_tokens)


def _text(tokens: list[Token]) -> str:
    return " ".join(t.text if t.kind != "bind" else t.text for t in tokens)


def _check_sqlglot(tokens: list[Token], want: type[exp.Expression], where: str) -> None:
    text = " ".join("?" if t.kind == "bind" else t.text for t in tokens)
    try:
        tree = sqlglot.parse_one(text, read="snowflake")
    except sqlglot.errors.ParseError as e:
        raise GrammarError(f"sqlglot (Snowflake dialect) cannot parse: {str(e).splitlines()[0]} in: {where}") from None
    if isinstance(tree, exp.Command) or not isinstance(tree, want):
        raise GrammarError(f"sqlglot (Snowflake dialect) does not read this as a {want.__name__}: {where}")
