"""What the stand-in checks on every statement the app sends, before running it, as Snowflake would:

- its grammar (support/grammar/, from the syntax blocks of Snowflake's reference pages);
- its size: at most MAX_STATEMENT_BYTES of text plus bound values. "Limits on Query Text Size"
  (https://docs.snowflake.com/en/user-guide/query-size-limits) asks for at most 1 MB per
  statement, and says the limit covers literals and values bound by the connectors too; larger
  data is to be loaded from files. The stand-in refuses anything larger, so a test sees it;
- no named temporary objects: every procedure of the app runs with owner's rights, and
  "Creating named temp objects is not supported in an owner's rights stored procedure"
  (https://docs.snowflake.com/en/developer-guide/stored-procedure/python/procedure-python-limitations;
  Snowflake answers "Unsupported statement type 'temporary TABLE'", as reported in
  https://github.com/snowflakedb/snowpark-python/issues/512).

It also gives the stand-in session `write_pandas`, the documented bulk path of Snowpark's Session
(https://docs.snowflake.com/en/developer-guide/snowpark/reference/python/latest/snowpark/api/snowflake.snowpark.Session.write_pandas),
over fakesnow's own write_pandas, recording the statements the connector sends for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import snowflake.connector
import snowflake.connector.pandas_tools

from . import grammar

# 1 MB read as the smaller 10^6 bytes: the stand-in must not accept what Snowflake may refuse.
MAX_STATEMENT_BYTES = 1_000_000

_TEMP = re.compile(r"^\s*CREATE\s+(OR\s+REPLACE\s+)?(LOCAL\s+|GLOBAL\s+)?(TEMP|TEMPORARY|VOLATILE)\s", re.I)


@dataclass
class Sent:
    """One statement as it reached the stand-in: its text and its size with the bound values."""

    sql: str
    bytes: int


def statement_bytes(query: str, params: list[Any] | tuple[Any, ...] | None) -> int:
    """UTF-8 bytes of the text plus every bound value as the connector sends it (as text)."""
    size = len(query.encode("utf-8"))
    for p in params or ():
        if p is not None:
            size += len((p if isinstance(p, str) else str(p)).encode("utf-8"))
    return size


def check(session: Any, query: str, params: list[Any] | tuple[Any, ...] | None = None) -> None:
    """Raises snowflake.connector ProgrammingError for what Snowflake would refuse; records the
    statement and its size in session.sent."""
    size = statement_bytes(query, params)
    sent: list[Sent] = session.__dict__.setdefault("sent", [])
    sent.append(Sent(query, size))
    if size > MAX_STATEMENT_BYTES:
        raise snowflake.connector.errors.ProgrammingError(
            f"Statement of {size} bytes (text and bound values) is over the {MAX_STATEMENT_BYTES} bytes Snowflake "
            "accepts per statement (https://docs.snowflake.com/en/user-guide/query-size-limits): load large data "
            f"from files (Session.write_pandas), not as literals or binds. Statement starts: {query[:80]!r}"
        )
    if _TEMP.match(query):
        raise snowflake.connector.errors.ProgrammingError(
            "Unsupported statement type 'temporary TABLE': an owner's rights procedure cannot create named "
            "temporary objects; use an app-owned table."
        )
    try:
        grammar.check(query)
    except grammar.GrammarError as e:
        raise snowflake.connector.errors.ProgrammingError(f"SQL compilation error (grammar check): {e}") from None


def write_pandas(
    session: Any,
    df: Any,
    table_name: str,
    *,
    database: str | None = None,
    schema: str | None = None,
    chunk_size: int | None = None,
    quote_identifiers: bool = True,
    auto_create_table: bool = False,
    overwrite: bool = False,
    table_type: str = "",
    **kwargs: Any,
) -> None:
    """Session.write_pandas over fakesnow. The connector's write_pandas sends, for a table that
    exists and one chunk: CREATE SCOPED TEMPORARY STAGE (scoped temporary objects are what the
    connector creates inside procedures: github.com/snowflakedb/snowflake-connector-python/pull/2068),
    PUT of one Parquet file (data travels as a file, not in a statement), COPY INTO the table.
    Those three are recorded and checked; the rows go in through fakesnow's write_pandas."""
    rules = getattr(session, "rules", None)
    routine = getattr(getattr(rules, "account", None), "routine", None)
    if routine is not None and routine.language == "PYTHON" and "pandas" not in routine.packages:
        # A handler imports only what its PACKAGES list (plus the standard library and IMPORTS), and
        # Snowpark's write_pandas needs pandas, which snowflake-snowpark-python does not pull in:
        # https://docs.snowflake.com/en/developer-guide/snowpark/reference/python/latest/snowpark/api/snowflake.snowpark.Session.write_pandas
        raise ModuleNotFoundError(f"No module named 'pandas' ({routine.name}: add 'pandas' to its PACKAGES)")
    if table_type.lower() in ("temp", "temporary"):
        raise snowflake.connector.errors.ProgrammingError(
            "Unsupported statement type 'temporary TABLE': an owner's rights procedure cannot create named "
            "temporary objects (write_pandas table_type='temp')."
        )
    rows = len(df)
    chunks = 1 if not chunk_size else max(1, -(-rows // chunk_size))
    q = '"' if quote_identifiers else ""
    location = ".".join(f"{q}{p}{q}" for p in (database, schema, table_name) if p)
    columns = ",".join(f"{q}{c}{q}" for c in df.columns)
    recorded = ["CREATE SCOPED TEMPORARY STAGE /* write_pandas */ identifier(?) FILE_FORMAT=(TYPE=PARQUET)"]
    recorded += [f"PUT 'file:///tmp/file{i}.txt' @stage /* write_pandas */" for i in range(chunks)]
    recorded.append(
        f"COPY INTO {location} /* write_pandas */ ({columns}) "
        f"FROM (SELECT {','.join('$1:' + c for c in columns.split(','))}"
        " FROM @stage) FILE_FORMAT=(TYPE=PARQUET) PURGE=TRUE ON_ERROR=?"
    )
    sent: list[Sent] = session.__dict__.setdefault("sent", [])
    for text in recorded:
        session.statements.append(text)
        size = statement_bytes(text, ["abort_statement"])
        sent.append(Sent(text, size))
        if size > MAX_STATEMENT_BYTES:  # only a frame of a statement here, never the data
            raise snowflake.connector.errors.ProgrammingError(f"write_pandas statement of {size} bytes")
    exists = session.conn.cursor().execute(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [(schema or "PUBLIC").upper(), table_name.upper()],
    ).fetchone()[0]
    if not exists and not auto_create_table:
        # Snowpark's message for it (DF_PANDAS_TABLE_DOES_NOT_EXIST_EXCEPTION).
        raise snowflake.connector.errors.ProgrammingError(
            f"Cannot write pandas DataFrame to table {location} because it does not exist. Create table before "
            "trying to write a pandas DataFrame or set auto_create_table=True."
        )
    known = {
        r[0].upper()
        for r in session.conn.cursor().execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?",
            [(schema or "PUBLIC").upper(), table_name.upper()],
        ).fetchall()
    }
    missing = [c for c in df.columns if str(c).upper() not in known or (quote_identifiers and str(c) != str(c).upper())]
    if exists and missing:
        # COPY INTO with a column list names columns that the table does not have.
        raise snowflake.connector.errors.ProgrammingError(f"invalid identifier {missing[0]!r} in COPY INTO {location}")
    snowflake.connector.pandas_tools.write_pandas(
        session.conn, df, table_name, database=database, schema=schema, chunk_size=chunk_size,
        quote_identifiers=quote_identifiers, auto_create_table=auto_create_table, overwrite=overwrite,
        table_type=table_type, **kwargs,
    )
