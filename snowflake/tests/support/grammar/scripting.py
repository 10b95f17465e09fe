"""Snowflake Scripting blocks (DECLARE / BEGIN / EXCEPTION / END and the statements inside), checked
by structure; each plain statement inside goes back to the statement check it is given."""

from __future__ import annotations

import re
from collections.abc import Callable

from .notation import Matcher
from .slots import _TYPES, _balanced
from .tokens import GrammarError, Token, _binds, _words, tokenize

# The statement check (checker.check_tokens), passed in: it checks blocks through this module.
StatementCheck = Callable[[list[Token], str], str]


# Snowflake Scripting: https://docs.snowflake.com/en/developer-guide/snowflake-scripting/blocks
# (blocks), .../variables (DECLARE, LET), .../branch (IF, CASE), .../loops (FOR, WHILE, LOOP,
# REPEAT), .../exceptions (EXCEPTION, RAISE), .../return (RETURN).


class _Script:
    def __init__(self, tokens: list[Token], where: str, check_statement: StatementCheck) -> None:
        self.t = tokens
        self.i = 0
        self.where = where
        self.check_statement = check_statement

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
        self.check_statement(seg, self.where)


def check_block(body: str, where: str, check_statement: StatementCheck) -> None:
    tokens = _binds(tokenize(body))
    s = _Script(tokens, where, check_statement)
    s.block()
    if s.word() == ";":
        s.i += 1
    if s.peek() is not None:
        raise s.fail("the end of the block")
