"""Tokens: Snowflake SQL cut into words, strings, identifiers, numbers and punctuation, the
`:name` binds of Snowflake Scripting, and a script split into its statements."""

from __future__ import annotations

import re
from dataclasses import dataclass


class GrammarError(ValueError):
    """A statement that Snowflake's documented grammar does not accept."""


@dataclass(frozen=True)
class Token:
    kind: str  # word, qident, string, dollar, number, var, bind, punct
    text: str  # as written
    value: str  # keyword upper-cased, string contents, identifier name
    pos: int

    def __repr__(self) -> str:
        return self.text


_TOKEN = re.compile(
    r"""
    (?P<ws>\s+|--[^\n]*|//[^\n]*|/\*.*?\*/)
  | (?P<dollar>\$\$.*?\$\$)
  | (?P<string>'(?:[^'\\]|\\.|'')*')
  | (?P<qident>"(?:[^"]|"")*")
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<var>\$\w+)
  | (?P<word>[A-Za-z_][A-Za-z0-9_$]*)
  | (?P<punct>::|=>|:=|<=|>=|<>|!=|\|\||[(),;.=<>+\-*/%:\[\]{}|!?~^&@])
    """,
    re.S | re.X,
)


def tokenize(sql: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(sql):
        m = _TOKEN.match(sql, pos)
        if not m:
            raise GrammarError(f"unexpected character {sql[pos]!r} at offset {pos}: {_around(sql, pos)}")
        kind = m.lastgroup or ""
        text = m.group()
        pos = m.end()
        if kind == "ws":
            continue
        if kind == "string":
            value = re.sub(r"\\(.)", r"\1", text[1:-1].replace("''", "'"))
        elif kind == "dollar":
            value = text[2:-2]
        elif kind == "qident":
            value = text[1:-1].replace('""', '"')
        else:
            value = text.upper()
        tokens.append(Token(kind, text, value, m.start()))
    return tokens


def _binds(tokens: list[Token]) -> list[Token]:
    """Inside Snowflake Scripting, `:name` reads a variable; elsewhere `:` is a path (v:"a")."""
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        prev = out[-1] if out else None
        after_value = prev is not None and (
            (prev.kind == "word" and prev.value not in _BEFORE_VALUE)
            or prev.kind in ("qident", "string", "number")
            or prev.text in (")", "]")
        )
        if t.text == ":" and i + 1 < len(tokens) and tokens[i + 1].kind == "word" and not after_value:
            out.append(Token("bind", ":" + tokens[i + 1].text, tokens[i + 1].value, t.pos))
            i += 2
            continue
        out.append(t)
        i += 1
    return out


_BEFORE_VALUE = {
    "THEN", "ELSE", "WHEN", "AND", "OR", "NOT", "IN", "IS", "SELECT", "WHERE", "RETURN", "BY", "ON", "SET",
    "VALUES", "USING", "INTO", "FROM", "AS", "DEFAULT", "IMMEDIATE", "LIKE", "CASE", "IF", "ELSEIF", "LIMIT",
}


def _around(sql: str, pos: int) -> str:
    return repr(sql[max(0, pos - 30) : pos + 30])


def _words(tokens: list[Token]) -> list[str]:
    return [t.value if t.kind == "word" else t.text for t in tokens]


def split_script(sql: str) -> list[str]:
    """A script's statements, split at `;` outside strings, $$ blocks and comments (as Snowflake
    does for a setup script or a file run by EXECUTE IMMEDIATE FROM)."""
    statements: list[str] = []
    start = 0
    for m in _TOKEN.finditer(sql):
        if m.lastgroup == "punct" and m.group() == ";":
            text = sql[start : m.start()]
            if tokenize(text):
                statements.append(text.strip())
            start = m.end()
    if tokenize(sql[start:]):
        statements.append(sql[start:].strip())
    return statements
