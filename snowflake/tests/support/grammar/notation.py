"""The notation of Snowflake's reference pages, parsed into a small tree of nodes and matched
against tokens by sets of end positions (memoised, so ambiguity costs no backtracking blow-up):

    KEYWORD          a keyword (matched case-insensitively)
    ( ) , = . ::     punctuation, literally
    <name> ...       a slot: see SLOTS (object names, strings, numbers, types, expressions, ...)
    [ x ]            optional
    { x | y }        one of
    x [ , ... ]      one or more x separated by commas
    << [ A ] B >>    the items inside in any order, each at most once; those not in [ ] required.
                     Snowflake accepts an object's properties in any order (the pages list one
                     order; public scripts use others), so property lists are written this way.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .tokens import Token


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


# Slot name -> matcher: filled by slots.py (the common ones) and by the rules that need their own.
SLOTS: dict[str, Callable[[Matcher, int], frozenset[int]]] = {}
