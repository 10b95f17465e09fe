"""The slots of the notation (<name>, <string>, <expr>, <query>, ...): what each matches in a
token list. Data types follow https://docs.snowflake.com/en/sql-reference/intro-summary-data-types"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .notation import SLOTS, Matcher


def _word(m: Matcher, i: int) -> bool:
    t = m.at(i)
    return t is not None and t.kind in ("word", "qident")


def _ident(m: Matcher, i: int) -> frozenset[int]:
    t = m.at(i)
    if t and t.kind == "word" and t.value == "IDENTIFIER":  # IDENTIFIER('name') / IDENTIFIER(:var)
        a, b, c = m.at(i + 1), m.at(i + 2), m.at(i + 3)
        if a and a.text == "(" and b and b.kind in ("string", "bind", "var") and c and c.text == ")":
            return frozenset([i + 4])
    return frozenset([i + 1]) if _word(m, i) else frozenset()


def _name(m: Matcher, i: int) -> frozenset[int]:
    """An object name: name, schema.name or db.schema.name (identifiers, quoted or not)."""
    out: set[int] = set()
    for e in _ident(m, i):
        out.add(e)
        for _ in range(2):
            t = m.at(e)
            if not (t and t.text == "." and _word(m, e + 1)):
                break
            e += 2
            out.add(e)
    return frozenset(out)


def _kind(*kinds: str) -> Callable[[Matcher, int], frozenset[int]]:
    def slot(m: Matcher, i: int) -> frozenset[int]:
        t = m.at(i)
        return frozenset([i + 1]) if t and t.kind in kinds else frozenset()

    return slot


def _number(m: Matcher, i: int) -> frozenset[int]:
    t = m.at(i)
    if t and t.text == "-":
        i += 1
        t = m.at(i)
    return frozenset([i + 1]) if t and t.kind == "number" else frozenset()


_TYPES = {
    "NUMBER", "DECIMAL", "NUMERIC", "INT", "INTEGER", "BIGINT", "SMALLINT", "TINYINT", "BYTEINT", "FLOAT",
    "FLOAT4", "FLOAT8", "DOUBLE", "REAL", "VARCHAR", "CHAR", "CHARACTER", "STRING", "TEXT", "BINARY",
    "VARBINARY", "BOOLEAN", "DATE", "DATETIME", "TIME", "TIMESTAMP", "TIMESTAMP_LTZ", "TIMESTAMP_NTZ",
    "TIMESTAMP_TZ", "VARIANT", "OBJECT", "ARRAY", "GEOGRAPHY", "GEOMETRY", "VECTOR",
}


def _data_type(m: Matcher, i: int) -> frozenset[int]:
    """A data type from https://docs.snowflake.com/en/sql-reference/intro-summary-data-types"""
    t = m.at(i)
    if not (t and t.kind == "word" and t.value in _TYPES):
        return frozenset()
    e = i + 1
    if t.value == "DOUBLE" and (n := m.at(e)) and n.value == "PRECISION":
        e += 1
    p = m.at(e)
    if p and p.text == "(":
        j = e + 1
        while (x := m.at(j)) and (x.kind in ("number", "word") or x.text == ","):
            j += 1
        if (x := m.at(j)) and x.text == ")":
            return frozenset([e, j + 1])
    return frozenset([e])


_OPEN = {"(": ")", "[": "]", "{": "}"}


# Clause keywords an expression never contains outside brackets or CASE ... END.
_CLAUSE_WORDS = frozenset({"WHEN", "THEN", "ELSE", "AS", "USING"})


def _balanced(
    m: Matcher, i: int, stop: Iterable[str] = (",", ";"), words: frozenset[str] = _CLAUSE_WORDS
) -> list[int]:
    """Every depth-0 end of a non-empty balanced run of tokens starting at i, stopping before a
    depth-0 stop token, clause keyword or unmatched closing bracket. CASE ... END counts as brackets."""
    ends: list[int] = []
    stack: list[str] = []
    j = i
    stops = set(stop)
    while (t := m.at(j)) is not None:
        if not stack and t.kind == "punct" and (t.text in stops or t.text in (")", "]", "}")):
            break
        if not stack and t.kind == "word" and t.value in words:
            break
        if t.kind == "punct" and t.text in _OPEN:
            stack.append(_OPEN[t.text])
        elif t.kind == "word" and t.value == "CASE":
            stack.append("END")
        elif stack and ((t.kind == "punct" and t.text == stack[-1]) or (t.kind == "word" and t.value == stack[-1])):
            stack.pop()
        elif t.kind == "punct" and t.text in (")", "]", "}"):
            break
        j += 1
        if not stack:
            ends.append(j)
    return ends


def _expr(m: Matcher, i: int) -> frozenset[int]:
    return frozenset(_balanced(m, i))


def _query(m: Matcher, i: int) -> frozenset[int]:
    """A query up to the closing bracket or the end: checked by sqlglot (see _check_sqlglot)."""
    t = m.at(i)
    if not (t and t.kind == "word" and t.value in ("SELECT", "WITH")):
        if not (t and t.text == "("):
            return frozenset()
    ends = _balanced(m, i, stop=(";",), words=frozenset())
    return frozenset(ends[-1:])


def _concat(m: Matcher, i: int) -> frozenset[int]:
    """A string built at run time: operands (strings, variables, names, calls) joined by ||."""
    out: set[int] = set()
    j = i
    while True:
        t = m.at(j)
        if t is None or t.kind not in ("string", "dollar", "bind", "word", "qident", "var"):
            return frozenset(out)
        j += 1
        if (p := m.at(j)) and p.text == "(" and t.kind == "word":
            ends = _balanced(m, j, words=frozenset())
            if not ends:
                return frozenset(out)
            j = ends[0]
        out.add(j)
        if not ((n := m.at(j)) and n.text == "||"):
            return frozenset(out)
        j += 1


def _rest(m: Matcher, i: int) -> frozenset[int]:
    """Everything to the end (a task's AS <sql>): checked as a statement of its own by the rule."""
    return frozenset([len(m.tokens)]) if i < len(m.tokens) else frozenset()


def _string_list_item(m: Matcher, i: int) -> frozenset[int]:
    return _kind("string")(m, i)


SLOTS.update(
    {
        "name": _name,
        "ident": _ident,
        "string": _kind("string", "dollar", "bind"),
        "literal": _kind("string"),
        "body": _kind("string", "dollar"),
        "number": _number,
        "data_type": _data_type,
        "expr": _expr,
        "query": _query,
        "rest": _rest,
        "concat": _concat,
    }
)
