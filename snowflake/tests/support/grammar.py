"""A grammar check of the Snowflake statements the app runs, written from the syntax blocks of
Snowflake's reference pages (each rule below names its page). sqlglot parses queries, MERGE and
table DDL, but falls back to an opaque `Command` for application roles, secrets, network rules,
integrations, app specifications, tasks, routines and scripting, so nothing would check those.

How it works: a tokenizer for Snowflake SQL, then one rule per statement kind. A rule's syntax is
written in the notation of the reference pages, so it can be read side by side with the page:

    KEYWORD          a keyword (matched case-insensitively)
    ( ) , = . ::     punctuation, literally
    <name> ...       a slot: see SLOTS (object names, strings, numbers, types, expressions, ...)
    [ x ]            optional
    { x | y }        one of
    x [ , ... ]      one or more x separated by commas
    << [ A ] B >>    the items inside in any order, each at most once; those not in [ ] required.
                     Snowflake accepts an object's properties in any order (the pages list one
                     order; public scripts use others), so property lists are written this way.

Statement kinds with a body of their own are checked recursively: a task's AS, EXECUTE IMMEDIATE's
string and Snowflake Scripting blocks (DECLARE / BEGIN / EXCEPTION / END, with the statements inside).
Queries, INSERT, UPDATE and DELETE are checked by sqlglot (Snowflake dialect), and so are the
expressions inside MERGE, CREATE TABLE and CREATE VIEW, after the rule has checked their clauses.
What is not encoded, and why: docs/snowflake-sql.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

import sqlglot
from sqlglot import exp

DOCS = "https://docs.snowflake.com/en/sql-reference/sql/"


class GrammarError(ValueError):
    """A statement that Snowflake's documented grammar does not accept."""


# ---------------------------------------------------------------------------------------------
# Tokens


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


# ---------------------------------------------------------------------------------------------
# The notation: parsed into a small tree of nodes, matched by sets of end positions (memoised,
# so ambiguity costs no backtracking blow-up).


class Node:
    def ends(self, m: Matcher, i: int) -> frozenset[int]:
        raise NotImplementedError


@dataclass(eq=False)
class Kw(Node):
    word: str

    def ends(self, m: Matcher, i: int) -> frozenset[int]:
        t = m.at(i)
        return frozenset([i + 1]) if t and t.kind == "word" and t.value == self.word else frozenset()


@dataclass(eq=False)
class Punct(Node):
    text: str

    def ends(self, m: Matcher, i: int) -> frozenset[int]:
        t = m.at(i)
        return frozenset([i + 1]) if t and t.kind == "punct" and t.text == self.text else frozenset()


@dataclass(eq=False)
class Seq(Node):
    items: list[Node]

    def ends(self, m: Matcher, i: int) -> frozenset[int]:
        current = frozenset([i])
        for item in self.items:
            current = frozenset(e for p in current for e in m.ends(item, p))
            if not current:
                break
        return current


@dataclass(eq=False)
class Alt(Node):
    options: list[Node]

    def ends(self, m: Matcher, i: int) -> frozenset[int]:
        return frozenset(e for o in self.options for e in m.ends(o, i))


@dataclass(eq=False)
class Opt(Node):
    item: Node

    def ends(self, m: Matcher, i: int) -> frozenset[int]:
        return frozenset([i]) | m.ends(self.item, i)


@dataclass(eq=False)
class CommaList(Node):
    item: Node

    def ends(self, m: Matcher, i: int) -> frozenset[int]:
        found: set[int] = set()
        frontier = set(m.ends(self.item, i))
        while frontier:
            found |= frontier
            nxt: set[int] = set()
            for p in frontier:
                t = m.at(p)
                if t and t.text == "," and t.kind == "punct":
                    nxt |= m.ends(self.item, p + 1)
            frontier = nxt - found
        return frozenset(found)


@dataclass(eq=False)
class AnyOrder(Node):
    items: list[Node]  # Opt(...) = optional, anything else = required

    def ends(self, m: Matcher, i: int) -> frozenset[int]:
        required = frozenset(k for k, it in enumerate(self.items) if not isinstance(it, Opt))
        inner = [it.item if isinstance(it, Opt) else it for it in self.items]
        seen: set[tuple[int, frozenset[int]]] = set()
        stack = [(i, frozenset[int]())]
        out: set[int] = set()
        while stack:
            pos, used = stack.pop()
            if (pos, used) in seen:
                continue
            seen.add((pos, used))
            if required <= used:
                out.add(pos)
            for k, it in enumerate(inner):
                if k not in used:
                    for e in m.ends(it, pos):
                        if e > pos:
                            stack.append((e, used | {k}))
        return frozenset(out)


@dataclass(eq=False)
class Slot(Node):
    name: str

    def ends(self, m: Matcher, i: int) -> frozenset[int]:
        fn = SLOTS.get(self.name)
        if fn is None:
            raise KeyError(f"grammar notation uses an unknown slot <{self.name}>")
        return fn(m, i)


_NOTATION = re.compile(r"\s*(<<|>>|\.\.\.|<[a-z_]+>|[A-Z][A-Z0-9_$]*|::|=>|[\[\]{}|(),=.;:*])")


def notation(text: str) -> Node:
    """Parses the reference pages' notation (see the module docstring) into nodes."""
    parts: list[str] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _NOTATION.match(text, pos)
        if not m:
            raise ValueError(f"bad grammar notation at {text[pos:pos + 20]!r}")
        parts.append(m.group(1))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    node, rest = _alt(parts, 0)
    if rest != len(parts):
        raise ValueError(f"bad grammar notation near {' '.join(parts[rest:rest + 5])!r}")
    return node


def _alt(parts: list[str], i: int) -> tuple[Node, int]:
    options = []
    seq, i = _seq(parts, i)
    options.append(seq)
    while i < len(parts) and parts[i] == "|":
        seq, i = _seq(parts, i + 1)
        options.append(seq)
    return (options[0] if len(options) == 1 else Alt(options)), i


def _seq(parts: list[str], i: int) -> tuple[Node, int]:
    items: list[Node] = []
    while i < len(parts) and parts[i] not in ("|", "]", "}", ">>"):
        p = parts[i]
        if p == "[" and parts[i + 1 : i + 4] == [",", "...", "]"]:
            items[-1] = CommaList(items[-1])
            i += 4
            continue
        if p == "[":
            inner, i = _alt(parts, i + 1)
            assert parts[i] == "]", parts[i - 3 : i + 1]
            items.append(Opt(inner))
            i += 1
        elif p == "{":
            inner, i = _alt(parts, i + 1)
            assert parts[i] == "}", parts[i - 3 : i + 1]
            items.append(inner)
            i += 1
        elif p == "<<":
            group: list[Node] = []
            i += 1
            while parts[i] != ">>":
                item, i = _seq_one(parts, i)
                group.append(item)
            items.append(AnyOrder(group))
            i += 1
        elif p.startswith("<"):
            items.append(Slot(p[1:-1]))
            i += 1
        elif re.match(r"[A-Z]", p):
            items.append(Kw(p))
            i += 1
        else:
            items.append(Punct(p))
            i += 1
    return (items[0] if len(items) == 1 else Seq(items)), i


def _seq_one(parts: list[str], i: int) -> tuple[Node, int]:
    """One item of an any-order group: a bracketed [ ... ], or a run of parts that ends where the
    next item starts (a `[`, `>>`, a `KEYWORD =`, or a `{` right after a complete value)."""
    if parts[i] == "[":
        end = _close(parts, i) + 1
        node, _ = _seq(parts[:end], i)
        return node, end
    j, depth = i, 0
    while j < len(parts):
        p = parts[j]
        if depth == 0 and j > i:
            if p == "[" and parts[j + 1 : j + 4] == [",", "...", "]"]:
                j += 4
                continue
            if p in ("[", ">>") or (re.match(r"[A-Z]", p) and parts[j + 1 : j + 2] == ["="]):
                break
            if p == "{" and (parts[j - 1].startswith("<") or parts[j - 1] in (")", "}")):
                break
        if p in ("(", "{", "["):
            depth += 1
        elif p in (")", "}", "]"):
            depth -= 1
        j += 1
    node, _ = _seq(parts[:j], i)
    return node, j


def _close(parts: list[str], i: int) -> int:
    depth = 0
    for j in range(i, len(parts)):
        if parts[j] in ("[", "{"):
            depth += 1
        elif parts[j] in ("]", "}"):
            depth -= 1
            if depth == 0:
                return j
    raise ValueError("unbalanced grammar notation")


# ---------------------------------------------------------------------------------------------
# Matching


class Matcher:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.memo: dict[tuple[int, int], frozenset[int]] = {}
        self.furthest = 0

    def at(self, i: int) -> Token | None:
        if i < len(self.tokens):
            self.furthest = max(self.furthest, i)
            return self.tokens[i]
        return None

    def ends(self, node: Node, i: int) -> frozenset[int]:
        key = (id(node), i)
        got = self.memo.get(key)
        if got is None:
            self.memo[key] = frozenset()  # no left recursion in these grammars
            got = node.ends(self, i)
            self.memo[key] = got
        return got


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


SLOTS: dict[str, Callable[[Matcher, int], frozenset[int]]] = {
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


# ---------------------------------------------------------------------------------------------
# Rules: one per statement kind, each with the page its syntax comes from.


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


def _words(tokens: list[Token]) -> list[str]:
    return [t.value if t.kind == "word" else t.text for t in tokens]


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


def _python_routine(tokens: list[Token]) -> str | None:
    """Python functions and procedures: the options the CREATE FUNCTION / PROCEDURE pages require."""
    language = _property_after(tokens, "LANGUAGE")
    if language != "PYTHON":
        return None
    runtime = _property(tokens, "RUNTIME_VERSION")
    handler = _property(tokens, "HANDLER")
    if not runtime or runtime[0].kind != "string" or not re.fullmatch(r"3\.(9|1[0-3])", runtime[0].value):
        return "LANGUAGE PYTHON needs RUNTIME_VERSION = '3.9' .. '3.13'"
    if not handler or handler[0].kind != "string":
        return "LANGUAGE PYTHON needs HANDLER = '<module>.<function>'"
    is_procedure = any(t.kind == "word" and t.value == "PROCEDURE" for t in tokens[:6])
    packages = _property(tokens, "PACKAGES") or []
    names = [t.value.split("==")[0].strip().lower() for t in packages if t.kind == "string"]
    if is_procedure and "snowflake-snowpark-python" not in names:
        # https://docs.snowflake.com/en/sql-reference/sql/create-procedure : PACKAGES must include
        # 'snowflake-snowpark-python' for a Python procedure.
        return "a Python procedure's PACKAGES must include 'snowflake-snowpark-python'"
    imports = _property(tokens, "IMPORTS")
    if imports is None and "." in handler[0].value and not any(t.kind in ("string", "dollar") for t in tokens[-1:]):
        return "HANDLER names a module but there is no IMPORTS and no inline code"
    if _property(tokens, "SECRETS") is not None and _property(tokens, "EXTERNAL_ACCESS_INTEGRATIONS") is None:
        # https://docs.snowflake.com/en/developer-guide/external-network-access/creating-using-external-network-access
        return "SECRETS needs EXTERNAL_ACCESS_INTEGRATIONS (secrets reach code only through an integration)"
    return None


def _property_after(tokens: list[Token], word: str) -> str | None:
    for k, t in enumerate(tokens[:-1]):
        if t.kind == "word" and t.value == word:
            return tokens[k + 1].value
    return None


def _task_schedule(tokens: list[Token]) -> str | None:
    value = _property(tokens, "SCHEDULE")
    if value is None:
        return None
    text = value[0].value if value and value[0].kind == "string" else ""
    # https://docs.snowflake.com/en/sql-reference/sql/create-task : '<num> { HOURS | MINUTES |
    # SECONDS }' or 'USING CRON <expr> <time_zone>' (five cron fields, then a time zone).
    if re.fullmatch(r"\d+\s+(MINUTE|MINUTES|HOUR|HOURS|SECOND|SECONDS)", text.strip(), re.I):
        return None
    m = re.fullmatch(r"USING\s+CRON\s+(\S+\s+\S+\s+\S+\s+\S+\s+\S+)\s+(\S+)", text.strip(), re.I)
    if m:
        return None
    return f"SCHEDULE {text!r} is neither '<num> MINUTES' nor 'USING CRON <5 fields> <time zone>'"


_NAME = "<name>"
_IF_NOT_EXISTS = "[ IF NOT EXISTS ]"
_CREATE = "CREATE [ OR REPLACE ]"
_COMMENT = "[ COMMENT = <literal> ]"

rule(
    "CREATE APPLICATION ROLE", "create-application-role",
    f"{_CREATE} APPLICATION ROLE {_IF_NOT_EXISTS} <name> {_COMMENT}",
    _not_both_replace_and_if_not_exists,
)
rule(
    "GRANT APPLICATION ROLE", "grant-application-role",
    "GRANT APPLICATION ROLE <name> TO { ROLE <name> | APPLICATION ROLE <name> | APPLICATION <name> }",
)

# Privileges per object kind, from the tables of GRANT <privileges> ... TO APPLICATION ROLE.
PRIVILEGES: dict[str, set[str]] = {
    "SCHEMA": {"USAGE", "MONITOR", "MODIFY", "ADD SEARCH OPTIMIZATION", "CREATE"},
    "TABLE": {"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "EVOLVE SCHEMA", "REBUILD"},
    "VIEW": {"SELECT", "REFERENCES"},
    "MATERIALIZED VIEW": {"SELECT", "REFERENCES"},
    "FUNCTION": {"USAGE"},
    "PROCEDURE": {"USAGE"},
    "TASK": {"MONITOR", "OPERATE"},
    "SECRET": {"USAGE", "READ"},
    "STREAMLIT": {"USAGE"},
    "INTEGRATION": {"USAGE"},
    "WAREHOUSE": {"USAGE", "OPERATE", "MONITOR", "MODIFY"},
    "STAGE": {"USAGE", "READ", "WRITE"},
}
_OBJECT_KINDS = " | ".join(k for k in PRIVILEGES if k not in ("SCHEMA", "FUNCTION", "PROCEDURE"))
rule(
    "GRANT ... TO APPLICATION ROLE", "grant-privilege-application-role",
    "GRANT { ALL [ PRIVILEGES ] | { <privilege> } [ , ... ] } ON "
    "{ SCHEMA <name> | { FUNCTION | PROCEDURE } <name> ( [ <data_type> [ , ... ] ] ) "
    f"| {{ {_OBJECT_KINDS} }} <name> "
    "| ALL { TABLES | VIEWS | FUNCTIONS | PROCEDURES } IN SCHEMA <name> } "
    "TO APPLICATION ROLE <name> [ WITH GRANT OPTION ]",
    lambda tokens: _privileges_fit(tokens),
)


def _privilege(m: Matcher, i: int) -> frozenset[int]:
    t = m.at(i)
    if not (t and t.kind == "word"):
        return frozenset()
    if t.value == "CREATE":  # CREATE <object type> on a schema
        n = m.at(i + 1)
        if n and n.kind == "word" and n.value in ("TABLE", "VIEW", "FUNCTION", "PROCEDURE", "TASK", "STAGE"):
            return frozenset([i + 2])
        return frozenset()
    known = {w for ws in PRIVILEGES.values() for w in ws if " " not in w}
    return frozenset([i + 1]) if t.value in known else frozenset()


SLOTS["privilege"] = _privilege


def _privileges_fit(tokens: list[Token]) -> str | None:
    w = _words(tokens)
    on = w.index("ON")
    granted = {x for x in w[1:on] if x != ","}
    rest = w[on + 1 :]
    kind = "ALL" if rest[0] == "ALL" else ("MATERIALIZED VIEW" if rest[:2] == ["MATERIALIZED", "VIEW"] else rest[0])
    if kind == "ALL" or "ALL" in granted:
        return None
    allowed = PRIVILEGES.get(kind, set())
    bad = [p for p in granted if p not in allowed and not (kind == "SCHEMA" and p in _CREATE_TARGETS)]
    return f"{', '.join(sorted(bad))} cannot be granted on a {kind}" if bad else None


_CREATE_TARGETS = {"TABLE", "VIEW", "FUNCTION", "PROCEDURE", "TASK", "STAGE", "CREATE"}

rule(
    "CREATE SECRET", "create-secret",
    f"{_CREATE} SECRET {_IF_NOT_EXISTS} <name> << TYPE = GENERIC_STRING SECRET_STRING = <string> "
    f"{_COMMENT} >>"
    f" | {_CREATE} SECRET {_IF_NOT_EXISTS} <name> << TYPE = PASSWORD USERNAME = <string> PASSWORD = <string>"
    f" {_COMMENT} >>",
    _not_both_replace_and_if_not_exists,
)
rule(
    "ALTER SECRET", "alter-secret",
    "ALTER SECRET [ IF EXISTS ] <name> SET << [ SECRET_STRING = <string> ] [ USERNAME = <string> ] "
    "[ PASSWORD = <string> ] [ COMMENT = <literal> ] >> | ALTER SECRET [ IF EXISTS ] <name> UNSET COMMENT",
    lambda tokens: None if len(tokens) > 5 else "ALTER SECRET ... SET needs at least one property",
)
rule(
    "CREATE STREAMLIT", "create-streamlit",
    f"CREATE [ OR REPLACE ] STREAMLIT {_IF_NOT_EXISTS} <name> FROM <literal> "
    "<< MAIN_FILE = <literal> [ QUERY_WAREHOUSE = <name> ] [ TITLE = <literal> ] "
    f"[ IMPORTS = ( <literal> [ , ... ] ) ] [ EXTERNAL_ACCESS_INTEGRATIONS = ( <name> [ , ... ] ) ] {_COMMENT} >>",
    _not_both_replace_and_if_not_exists,
)
rule(
    "CREATE NETWORK RULE", "create-network-rule",
    f"CREATE [ OR REPLACE | OR ALTER ] NETWORK RULE {_IF_NOT_EXISTS} <name> "
    "<< TYPE = { IPV4 | IPV6 | AWSVPCEID | AZURELINKID | GCPPSCID | HOST_PORT | PRIVATE_HOST_PORT } "
    "VALUE_LIST = ( <literal> [ , ... ] ) "
    "[ MODE = { INGRESS | INTERNAL_STAGE | EGRESS } ] "
    f"{_COMMENT} >>",
    _not_both_replace_and_if_not_exists,
    lambda tokens: "TYPE = HOST_PORT needs MODE = EGRESS"
    if (_property(tokens, "TYPE") or [None])[0] is not None
    and _property(tokens, "TYPE")[0].value in ("HOST_PORT", "PRIVATE_HOST_PORT")  # type: ignore[index]
    and [t.value for t in _property(tokens, "MODE") or []] != ["EGRESS"]
    else None,
)
rule(
    "ALTER NETWORK RULE", "alter-network-rule",
    "ALTER NETWORK RULE [ IF EXISTS ] <name> SET << [ VALUE_LIST = ( [ <literal> [ , ... ] ] ) ] "
    f"{_COMMENT} >> | ALTER NETWORK RULE [ IF EXISTS ] <name> UNSET {{ VALUE_LIST | COMMENT }}",
)
_EAI_PROPS = (
    "ALLOWED_NETWORK_RULES = ( <name> [ , ... ] ) "
    "[ ALLOWED_API_AUTHENTICATION_INTEGRATIONS = ( { <name> [ , ... ] | NONE } ) ] "
    "[ ALLOWED_AUTHENTICATION_SECRETS = ( { <name> [ , ... ] | ALL | NONE } ) ] "
    "ENABLED = { TRUE | FALSE } "
    f"{_COMMENT}"
)
rule(
    "CREATE EXTERNAL ACCESS INTEGRATION", "create-external-access-integration",
    f"{_CREATE} EXTERNAL ACCESS INTEGRATION {_IF_NOT_EXISTS} <name> << {_EAI_PROPS} >>",
    _not_both_replace_and_if_not_exists,
)
rule(
    "ALTER EXTERNAL ACCESS INTEGRATION", "alter-external-access-integration",
    "ALTER EXTERNAL ACCESS INTEGRATION [ IF EXISTS ] <name> SET << "
    "[ ALLOWED_NETWORK_RULES = ( <name> [ , ... ] ) ] "
    "[ ALLOWED_API_AUTHENTICATION_INTEGRATIONS = ( { <name> [ , ... ] | NONE } ) ] "
    "[ ALLOWED_AUTHENTICATION_SECRETS = ( { <name> [ , ... ] | ALL | NONE } ) ] "
    f"[ ENABLED = {{ TRUE | FALSE }} ] {_COMMENT} >>"
    " | ALTER EXTERNAL ACCESS INTEGRATION [ IF EXISTS ] <name> UNSET "
    "{ ALLOWED_NETWORK_RULES | ALLOWED_API_AUTHENTICATION_INTEGRATIONS | ALLOWED_AUTHENTICATION_SECRETS | COMMENT }"
    " [ , ... ]",
)
rule(
    "ALTER APPLICATION SET SPECIFICATION", "alter-application-set-app-spec",
    "ALTER APPLICATION SET SPECIFICATION <ident> << TYPE = EXTERNAL_ACCESS LABEL = <string> "
    "DESCRIPTION = <string> { { HOST_PORTS | PRIVATE_HOST_PORTS } = ( <string> [ , ... ] ) } >>",
)
rule(
    "ALTER APPLICATION DROP SPECIFICATION", "alter-application-drop-app-spec",
    "ALTER APPLICATION DROP SPECIFICATION [ IF EXISTS ] <ident>",
)
rule(
    "CREATE OR ALTER VERSIONED SCHEMA", "create-or-alter-versioned-schema",
    "CREATE OR ALTER VERSIONED SCHEMA <name> << [ WITH MANAGED ACCESS ] [ DATA_RETENTION_TIME_IN_DAYS = <number> ] "
    f"[ MAX_DATA_EXTENSION_TIME_IN_DAYS = <number> ] [ DEFAULT_DDL_COLLATION = <literal> ] {_COMMENT} >>",
)
rule(
    "CREATE SCHEMA", "create-schema",
    f"{_CREATE} [ TRANSIENT ] SCHEMA {_IF_NOT_EXISTS} <name> << [ WITH MANAGED ACCESS ] "
    f"[ DATA_RETENTION_TIME_IN_DAYS = <number> ] [ MAX_DATA_EXTENSION_TIME_IN_DAYS = <number> ] "
    f"[ DEFAULT_DDL_COLLATION = <literal> ] {_COMMENT} >>",
    _not_both_replace_and_if_not_exists,
)
rule(
    "EXECUTE IMMEDIATE FROM", "execute-immediate-from",
    "EXECUTE IMMEDIATE FROM <literal>",
    lambda tokens: None
    if re.fullmatch(r"(\./|/)?[\w./-]+\.sql", tokens[3].value)
    else "EXECUTE IMMEDIATE FROM needs a path to a .sql file",
)
# The body (a string, $$ block or variable) is checked by check_tokens itself.
rule(
    "EXECUTE IMMEDIATE", "execute-immediate",
    "EXECUTE IMMEDIATE { <body> | <var> | <concat> } [ USING ( <ident> [ , ... ] ) ]",
)
SLOTS["var"] = _kind("var")
SLOTS["bind"] = _kind("bind")

_TASK_PROPS = (
    "<< [ { WAREHOUSE = <string> | USER_TASK_MANAGED_INITIAL_WAREHOUSE_SIZE = <string> } ] "
    "[ SCHEDULE = <literal> ] [ CONFIG = <string> ] [ ALLOW_OVERLAPPING_EXECUTION = { TRUE | FALSE } ] "
    "[ OVERLAP_POLICY = { NO_OVERLAP | ALLOW_CHILD_OVERLAP | ALLOW_ALL_OVERLAP } ] "
    "[ USER_TASK_TIMEOUT_MS = <number> ] [ SUSPEND_TASK_AFTER_NUM_FAILURES = <number> ] "
    "[ ERROR_INTEGRATION = <name> ] [ SUCCESS_INTEGRATION = <name> ] [ LOG_LEVEL = <literal> ] "
    "[ TASK_AUTO_RETRY_ATTEMPTS = <number> ] [ USER_TASK_MINIMUM_TRIGGER_INTERVAL_IN_SECONDS = <number> ] "
    f"[ TARGET_COMPLETION_INTERVAL = <literal> ] {_COMMENT} [ FINALIZE = <name> ] >>"
)
rule(
    "CREATE TASK", "create-task",
    f"CREATE [ OR REPLACE | OR ALTER ] TASK {_IF_NOT_EXISTS} <name> {_TASK_PROPS} "
    "[ AFTER <name> [ , ... ] ] [ WHEN <expr> ] AS <rest>",
    _not_both_replace_and_if_not_exists,
    _task_schedule,
)
rule(
    "ALTER TASK", "alter-task",
    "ALTER TASK [ IF EXISTS ] <name> { RESUME | SUSPEND } "
    "| ALTER TASK [ IF EXISTS ] <name> SET " + _TASK_PROPS.replace("<< ", "<< ", 1)
    + " | ALTER TASK [ IF EXISTS ] <name> UNSET { SCHEDULE | COMMENT | WAREHOUSE | USER_TASK_TIMEOUT_MS } [ , ... ]"
    " | ALTER TASK [ IF EXISTS ] <name> MODIFY AS <rest>",
    _task_schedule,
)

_ARGS = "( [ { <ident> <data_type> [ DEFAULT <expr> ] } [ , ... ] ] )"
_RETURNS = "RETURNS { <data_type> [ [ NOT ] NULL ] | TABLE ( [ <ident> <data_type> [ , ... ] ] ) }"
_PY_OPTIONS = (
    "[ RUNTIME_VERSION = <literal> ] [ PACKAGES = ( [ <literal> [ , ... ] ] ) ] "
    "[ IMPORTS = ( [ <literal> [ , ... ] ] ) ] [ HANDLER = <literal> ] "
    "[ EXTERNAL_ACCESS_INTEGRATIONS = ( <name> [ , ... ] ) ] "
    "[ SECRETS = ( { <literal> = <name> } [ , ... ] ) ] "
    "[ { CALLED ON NULL INPUT | RETURNS NULL ON NULL INPUT | STRICT } ] [ { VOLATILE | IMMUTABLE } ] "
    f"{_COMMENT}"
)
rule(
    "CREATE PROCEDURE", "create-procedure",
    f"{_CREATE} [ SECURE ] PROCEDURE {_IF_NOT_EXISTS} <name> {_ARGS} [ COPY GRANTS ] {_RETURNS} "
    f"<< LANGUAGE {{ PYTHON | SQL | JAVASCRIPT | JAVA | SCALA }} {_PY_OPTIONS} "
    "[ EXECUTE AS { OWNER | CALLER | RESTRICTED CALLER } ] >> [ AS <body> ]",
    _not_both_replace_and_if_not_exists,
    _python_routine,
)
rule(
    "CREATE FUNCTION", "create-function",
    f"{_CREATE} [ SECURE ] FUNCTION {_IF_NOT_EXISTS} <name> {_ARGS} [ COPY GRANTS ] {_RETURNS} "
    f"<< LANGUAGE {{ PYTHON | SQL | JAVASCRIPT | JAVA | SCALA }} {_PY_OPTIONS} [ MEMOIZABLE ] >> [ AS <body> ]",
    _not_both_replace_and_if_not_exists,
    _python_routine,
)
rule(
    "MERGE", "merge",
    "MERGE INTO <name> [ [ AS ] <ident> ] USING { <name> | ( <query> ) } [ [ AS ] <ident> ] ON <expr> "
    "{ WHEN MATCHED [ AND <expr> ] THEN { UPDATE SET { <name> = <expr> } [ , ... ] | UPDATE ALL BY NAME | DELETE } "
    "| WHEN NOT MATCHED [ AND <expr> ] THEN INSERT "
    "{ ALL BY NAME | [ ( <ident> [ , ... ] ) ] VALUES ( <expr> [ , ... ] ) } }"
    " <merge_more>",
    sqlglot=True,
)
_COLUMN = "<ident> <data_type> [ NOT NULL | NULL ] [ DEFAULT <expr> ] [ COMMENT <literal> ]"
rule(
    "CREATE TABLE", "create-table",
    f"{_CREATE} [ {{ TRANSIENT | TEMP | TEMPORARY }} ] TABLE {_IF_NOT_EXISTS} <name> ( {{ {_COLUMN} }} [ , ... ] ) "
    "<< [ CLUSTER BY ( <expr> [ , ... ] ) ] [ DATA_RETENTION_TIME_IN_DAYS = <number> ] "
    "[ CHANGE_TRACKING = { TRUE | FALSE } ] "
    f"[ COPY GRANTS ] {_COMMENT} >>"
    f" | {_CREATE} [ {{ TRANSIENT | TEMP | TEMPORARY }} ] TABLE {_IF_NOT_EXISTS} <name> AS <query>",
    _not_both_replace_and_if_not_exists,
    sqlglot=True,
)
rule(
    "ALTER TABLE", "alter-table",
    f"ALTER TABLE [ IF EXISTS ] <name> ADD [ COLUMN ] [ IF NOT EXISTS ] {{ {_COLUMN} }} [ , ... ]"
    " | ALTER TABLE [ IF EXISTS ] <name> RENAME TO <name>",
    sqlglot=True,
)
rule(
    "CREATE VIEW", "create-view",
    f"CREATE [ OR REPLACE | OR ALTER ] [ SECURE ] [ RECURSIVE ] VIEW {_IF_NOT_EXISTS} <name> "
    "[ ( { <ident> [ COMMENT <literal> ] } [ , ... ] ) ] << [ COPY GRANTS ] "
    f"{_COMMENT} [ CHANGE_TRACKING = {{ TRUE | FALSE }} ] >> AS <query>",
    _not_both_replace_and_if_not_exists,
    sqlglot=True,
)
rule(
    "DROP", "drop",
    "DROP { TABLE | VIEW | SCHEMA | TASK | SECRET | NETWORK RULE | INTEGRATION | EXTERNAL ACCESS INTEGRATION "
    "| STAGE | APPLICATION ROLE } [ IF EXISTS ] <name> [ CASCADE | RESTRICT ]"
    " | DROP { FUNCTION | PROCEDURE } [ IF EXISTS ] <name> ( [ <data_type> [ , ... ] ] )",
)
rule(
    "CALL", "call",
    "CALL <name> ( [ { <ident> => <expr> | <expr> } [ , ... ] ] ) [ INTO <bind> ]",
)
rule(
    "SHOW", "show",
    "SHOW [ APPROVED ] SPECIFICATIONS [ IN APPLICATION <name> ]"
    " | SHOW [ TERSE ] { TABLES | VIEWS | SCHEMAS | TASKS | SECRETS | NETWORK RULES | INTEGRATIONS "
    "| EXTERNAL ACCESS INTEGRATIONS | APPLICATION ROLES | FUNCTIONS | PROCEDURES | USER FUNCTIONS | USER PROCEDURES "
    "| GRANTS | REFERENCES } [ LIKE <literal> ] [ IN { ACCOUNT | DATABASE [ <name> ] | SCHEMA [ <name> ] "
    "| APPLICATION <name> | APPLICATION ROLE <name> } ]"
    " | SHOW GRANTS { TO | OF } APPLICATION ROLE <name>",
)
rule(
    "DESCRIBE", "desc-table",
    "{ DESCRIBE | DESC } { TABLE | VIEW | TASK | SECRET | NETWORK RULE | INTEGRATION | SCHEMA } <name>"
    " | { DESCRIBE | DESC } { FUNCTION | PROCEDURE } <name> ( [ <data_type> [ , ... ] ] )",
)
rule("USE", "use", "USE [ { DATABASE | SCHEMA | ROLE | WAREHOUSE } ] <name>")
rule("SET", "set", "SET <ident> = <expr> | UNSET <ident>")
rule("TRUNCATE", "truncate-table", "TRUNCATE [ TABLE ] [ IF EXISTS ] <name>")


def _merge_more(m: Matcher, i: int) -> frozenset[int]:
    """Further WHEN clauses of a MERGE (the `[ ... ]` after the first clause on the page)."""
    clause = _MERGE_CLAUSE
    out = {i}
    frontier = {i}
    while frontier:
        nxt = {e for p in frontier for e in m.ends(clause, p)} - out
        out |= nxt
        frontier = nxt
    return frozenset(out)


_MERGE_CLAUSE = notation(
    "WHEN MATCHED [ AND <expr> ] THEN { UPDATE SET { <name> = <expr> } [ , ... ] | UPDATE ALL BY NAME | DELETE } "
    "| WHEN NOT MATCHED [ AND <expr> ] THEN INSERT "
    "{ ALL BY NAME | [ ( <ident> [ , ... ] ) ] VALUES ( <expr> [ , ... ] ) }"
)
SLOTS["merge_more"] = _merge_more

# Statements sqlglot alone checks (no syntax block of ours): queries and plain DML.
_SQLGLOT_ONLY = {
    "SELECT": exp.Query, "WITH": exp.Query, "INSERT": exp.Insert, "UPDATE": exp.Update, "DELETE": exp.Delete
}


# ---------------------------------------------------------------------------------------------
# Snowflake Scripting: https://docs.snowflake.com/en/developer-guide/snowflake-scripting/blocks
# (blocks), .../variables (DECLARE, LET), .../branch (IF, CASE), .../loops (FOR, WHILE, LOOP,
# REPEAT), .../exceptions (EXCEPTION, RAISE), .../return (RETURN).


class _Script:
    def __init__(self, tokens: list[Token], where: str) -> None:
        self.t = tokens
        self.i = 0
        self.where = where

    def peek(self, k: int = 0) -> Token | None:
        return self.t[self.i + k] if self.i + k < len(self.t) else None

    def word(self, k: int = 0) -> str:
        p = self.peek(k)
        return p.value if p and p.kind == "word" else (p.text if p else "")

    def fail(self, what: str) -> GrammarError:
        got = self.peek()
        return GrammarError(f"{self.where}: Snowflake Scripting expects {what}, found {got.text if got else 'the end'}")

    def expect(self, *words: str) -> None:
        for w in words:
            if self.word() != w:
                raise self.fail(w)
            self.i += 1

    def until_semicolon(self) -> list[Token]:
        start = self.i
        depth = 0
        while (p := self.peek()) is not None:
            if p.kind == "punct" and p.text in "([{":
                depth += 1
            elif p.kind == "punct" and p.text in ")]}":
                depth -= 1
            elif depth == 0 and p.kind == "punct" and p.text == ";":
                break
            elif depth == 0 and p.kind == "word" and p.value in ("CASE", "BEGIN") and self.i > start:
                # an expression's CASE ... END, or a nested block inside a statement
                self._skip_case_or_block()
                continue
            self.i += 1
        if self.peek() is None:
            raise self.fail("';'")
        seg = self.t[start : self.i]
        self.i += 1  # the ;
        return seg

    def _skip_case_or_block(self) -> None:
        depth = 0
        while (p := self.peek()) is not None:
            if p.kind == "word" and p.value in ("CASE", "BEGIN"):
                depth += 1
            elif p.kind == "word" and p.value == "END":
                depth -= 1
                self.i += 1
                if self.word() in ("CASE", "IF", "LOOP", "FOR", "WHILE", "REPEAT"):
                    self.i += 1
                if depth == 0:
                    return
                continue
            self.i += 1

    def block(self) -> None:
        if self.word() == "DECLARE":
            self.i += 1
            while self.word() != "BEGIN":
                if self.peek() is None:
                    raise self.fail("BEGIN after DECLARE")
                self.declaration()
        self.expect("BEGIN")
        self.statements(("EXCEPTION", "END"))
        if self.word() == "EXCEPTION":
            self.i += 1
            if self.word() != "WHEN":
                raise self.fail("WHEN after EXCEPTION")
            while self.word() == "WHEN":
                self.i += 1
                self.i += 1  # exception name or OTHER
                while self.word() == "OR":
                    self.i += 2
                self.expect("THEN")
                self.statements(("WHEN", "END"))
        self.expect("END")

    def declaration(self) -> None:
        seg = self.until_semicolon()
        if not seg or seg[0].kind != "word":
            raise GrammarError(f"{self.where}: a DECLARE entry must start with a name")
        words = _words(seg)
        if len(words) >= 2 and words[1] == "EXCEPTION":
            declared = " ".join(t.text for t in seg[1:])
            if len(words) > 2 and not re.fullmatch(r"EXCEPTION\s*\(\s*-?\s*\d+\s*,\s*'.*'\s*\)", declared, re.S):
                raise GrammarError(f"{self.where}: EXCEPTION declarations are `name EXCEPTION (-20nnn, 'message')`")
            return
        if len(words) >= 2 and words[1] in ("CURSOR", "RESULTSET"):
            return
        # name [type] [ { DEFAULT | := } expr ]
        rest = words[1:]
        if rest and rest[0] not in ("DEFAULT", ":=") and rest[0] not in _TYPES:
            raise GrammarError(f"{self.where}: {rest[0]} is not a data type (DECLARE name [type] [DEFAULT expr])")

    def statements(self, stop: tuple[str, ...]) -> None:
        count = 0
        while self.word() not in stop:
            if self.peek() is None:
                raise self.fail(" or ".join(stop))
            self.statement()
            count += 1
        if count == 0:
            raise self.fail("at least one statement")

    def statement(self) -> None:
        w = self.word()
        if w in ("BEGIN", "DECLARE"):
            self.block()
            self.expect(";")
        elif w == "IF":
            self.i += 1
            self.condition()
            self.expect("THEN")
            self.statements(("ELSEIF", "ELSE", "END"))
            while self.word() == "ELSEIF":
                self.i += 1
                self.condition()
                self.expect("THEN")
                self.statements(("ELSEIF", "ELSE", "END"))
            if self.word() == "ELSE":
                self.i += 1
                self.statements(("END",))
            self.expect("END", "IF", ";")
        elif w == "FOR":
            self.i += 1
            while self.word() not in ("DO", "LOOP") and self.peek() is not None:
                self.i += 1
            closing = self.word()
            self.i += 1
            self.statements(("END",))
            self.expect("END", "FOR" if closing == "DO" else "LOOP")
            self._label_and_semicolon()
        elif w == "WHILE":
            self.i += 1
            self.condition()
            closing = self.word()
            if closing not in ("DO", "LOOP"):
                raise self.fail("DO or LOOP")
            self.i += 1
            self.statements(("END",))
            self.expect("END", "WHILE" if closing == "DO" else "LOOP")
            self._label_and_semicolon()
        elif w == "LOOP":
            self.i += 1
            self.statements(("END",))
            self.expect("END", "LOOP")
            self._label_and_semicolon()
        elif w == "CASE" and self.word(1) != "(":
            self.i += 1
            if self.word() != "WHEN":
                self.i += 1  # simple CASE <expr> WHEN
            while self.word() == "WHEN":
                self.i += 1
                while self.word() != "THEN" and self.peek() is not None:
                    self.i += 1
                self.expect("THEN")
                self.statements(("WHEN", "ELSE", "END"))
            if self.word() == "ELSE":
                self.i += 1
                self.statements(("END",))
            self.expect("END", "CASE", ";")
        else:
            seg = self.until_semicolon()
            self.simple(seg)

    def _label_and_semicolon(self) -> None:
        if self.peek() and self.peek().kind == "word":  # type: ignore[union-attr]
            self.i += 1
        self.expect(";")

    def condition(self) -> None:
        if self.word() != "(":
            raise self.fail("a condition in parentheses")
        ends = _balanced(Matcher(self.t), self.i)
        if not ends:
            raise self.fail("a balanced condition")
        self.i = ends[0]

    def simple(self, seg: list[Token]) -> None:
        words = _words(seg)
        head = words[0]
        if head == "LET" or (len(words) > 1 and words[1] == ":="):
            value = seg[3:] if head == "LET" else seg[2:]
            if head == "LET" and len(words) > 2 and words[2] not in (":=", "DEFAULT", "CURSOR", "RESULTSET"):
                value = seg[4:]
            if head == "LET" and len(words) > 2 and words[2] == "RESULTSET":
                return
            if len(value) > 1 and value[0].text == "(" and _words(value)[1] in ("SELECT", "WITH"):
                return
            if not value:
                raise GrammarError(f"{self.where}: assignment without a value: {' '.join(words)}")
            return
        if head in ("RETURN", "RAISE", "BREAK", "CONTINUE", "EXIT", "NULL", "OPEN", "CLOSE", "FETCH"):
            return
        check_tokens(seg, where=self.where)


def _check_block(body: str, where: str) -> None:
    tokens = _binds(tokenize(body))
    s = _Script(tokens, where)
    s.block()
    if s.word() == ";":
        s.i += 1
    if s.peek() is not None:
        raise s.fail("the end of the block")


# ---------------------------------------------------------------------------------------------
# Entry points


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
        f"no grammar for this kind of statement ({head[:60]}...): add its syntax block to tests/support/grammar.py"
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
        _check_block(_text(tokens), where)
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
                _check_block(inner, f"EXECUTE IMMEDIATE block in {where}")
            else:
                check_tokens(_binds(tokenize(inner)), where=f"EXECUTE IMMEDIATE in {where}")
    elif r.kind in ("CREATE TASK", "ALTER TASK") and "AS" in words:
        at = len(words) - 1 - words[::-1].index("AS")
        check_tokens(tokens[at + 1 :], where=f"task body in {where}")
    elif r.kind == "CREATE PROCEDURE" and _property_after(tokens, "LANGUAGE") == "SQL":
        body = tokens[-1]
        if body.kind in ("string", "dollar"):
            _check_block(body.value.strip(), f"SQL procedure body in {where}")


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
