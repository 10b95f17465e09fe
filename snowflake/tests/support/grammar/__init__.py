"""A grammar check of the Snowflake statements the app runs, written from the syntax blocks of
Snowflake's reference pages (each rule names its page). sqlglot parses queries, MERGE and
table DDL, but falls back to an opaque `Command` for application roles, secrets, network rules,
integrations, app specifications, tasks, routines and scripting, so nothing would check those.

How it works: a tokenizer for Snowflake SQL (tokens.py), then one rule per statement kind
(rules_app.py, rules_code.py, rules_ddl.py, registered through rules.py). A rule's syntax is
written in the notation of the reference pages (notation.py, its slots in slots.py), so it can be
read side by side with the page. checker.py picks a statement's rule and checks it.

Statement kinds with a body of their own are checked recursively: a task's AS, EXECUTE IMMEDIATE's
string and Snowflake Scripting blocks (scripting.py: DECLARE / BEGIN / EXCEPTION / END, with the
statements inside). Queries, INSERT, UPDATE and DELETE are checked by sqlglot (Snowflake dialect),
and so are the expressions inside MERGE, CREATE TABLE and CREATE VIEW, after the rule has checked
their clauses. What is not encoded, and why: docs/snowflake-sql.md.
"""

from .checker import check, check_tokens, statement_kind
from .notation import SLOTS, Alt, AnyOrder, CommaList, Kw, Matcher, Node, Opt, Punct, Seq, Slot, notation
from .rules import DOCS, RULES, Rule, rule
from .rules_app import PRIVILEGES
from .tokens import GrammarError, Token, split_script, tokenize

__all__ = [
    "DOCS",
    "PRIVILEGES",
    "RULES",
    "SLOTS",
    "Alt",
    "AnyOrder",
    "CommaList",
    "GrammarError",
    "Kw",
    "Matcher",
    "Node",
    "Opt",
    "Punct",
    "Rule",
    "Seq",
    "Slot",
    "Token",
    "check",
    "check_tokens",
    "notation",
    "rule",
    "split_script",
    "statement_kind",
    "tokenize",
]
