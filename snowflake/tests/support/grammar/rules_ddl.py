"""Rules for data statements: MERGE, tables, views, DROP, CALL, SHOW, DESCRIBE, USE, SET and
TRUNCATE (sqlglot also parses the expressions inside MERGE, CREATE TABLE and CREATE VIEW)."""

from __future__ import annotations

from .notation import Matcher, notation
from .rules import _COMMENT, _CREATE, _IF_NOT_EXISTS, _not_both_replace_and_if_not_exists, rule
from .slots import SLOTS

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
