"""Rules for a Native App's own objects: application roles and their grants, secrets, Streamlit,
network rules, external access integrations, app specifications and (versioned) schemas."""

from __future__ import annotations

from .notation import Matcher
from .rules import _COMMENT, _CREATE, _IF_NOT_EXISTS, _not_both_replace_and_if_not_exists, _property, rule
from .slots import SLOTS
from .tokens import Token, _words

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
