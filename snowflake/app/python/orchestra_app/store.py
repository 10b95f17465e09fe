"""Everything the loader says to Snowflake, through a Snowpark `session`.

`session.sql(query, params=[...]).collect()` for small statements and `session.write_pandas` for
records, so the same code runs in a stored procedure and, in tests, through fakesnow. Records never
travel inside a statement: Snowflake asks for at most 1 MB per statement, binds included
(https://docs.snowflake.com/en/user-guide/query-size-limits), and a day of runs is more. Each
window's records go to the app-owned staging table config.load_stage with write_pandas (Parquet
files put on a stage, then COPY INTO: the documented bulk path), then one MERGE reads them and one
DELETE removes them. The staging table is a plain table, not a temporary one: the app's procedures
run with owner's rights, where named temporary objects cannot be created
(https://docs.snowflake.com/en/developer-guide/stored-procedure/python/procedure-python-limitations).
Rows of concurrent loads are told apart by a batch id. Statements per window are constant:
WRITE_PANDAS_STATEMENTS + MERGE + DELETE, whatever the number of records or pages.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from .normalize import canonical_timestamp, split_extras
from .schema import STREAMS, TIMESTAMP_FORMAT

STAGE_SCHEMA = "CONFIG"
STAGE_TABLE = "LOAD_STAGE"
# One row per record: the loader element {"s": seq, "r": record, "x": extras} as JSON text (a
# VARCHAR holds 16 MB; one record is a few KB). TRANSIENT: staged rows need no Fail-safe.
STAGE_DDL = (
    "CREATE TRANSIENT TABLE IF NOT EXISTS config.load_stage (batch_id VARCHAR NOT NULL, stream VARCHAR NOT NULL, "
    "seq NUMBER(38,0) NOT NULL, element VARCHAR NOT NULL)"
)
# What write_pandas sends for one chunk (connector pandas_tools): CREATE SCOPED TEMPORARY STAGE,
# PUT of one Parquet file, COPY INTO the table.
WRITE_PANDAS_STATEMENTS = 3
# The MERGE reads one batch of the staging table where the generated MERGE read bound pages.
_PAGES_SOURCE = (
    "FROM (SELECT PARSE_JSON(column1) AS page FROM VALUES {pages}) AS p,\n        LATERAL FLATTEN(input => p.page) AS e"
)
_STAGE_SOURCE = "FROM (SELECT PARSE_JSON(element) AS value FROM config.load_stage WHERE batch_id = ?) AS e"


def staged_merge_sql(stream: str) -> str:
    sql = str(STREAMS[stream]["merge_sql"])
    if _PAGES_SOURCE not in sql:
        raise RuntimeError(f"schema.py's MERGE for {stream} no longer reads {{pages}}: update store.py")
    return sql.replace(_PAGES_SOURCE, _STAGE_SOURCE)


class Store:
    def __init__(self, session: Any) -> None:
        self.session = session
        self.statements = 0
        self._stage_ready = False

    def sql(self, query: str, params: list[Any] | None = None) -> list[Any]:
        self.statements += 1
        return self.session.sql(query, params=params).collect()

    # -- settings and state -----------------------------------------------------------------

    def read_settings(self) -> dict[str, str]:
        rows = self.sql("SELECT name, value FROM config.settings")
        return {str(r[0]).lower(): "" if r[1] is None else str(r[1]) for r in rows}

    def write_setting(self, name: str, value: str) -> None:
        self.sql(
            "MERGE INTO config.settings AS t USING (SELECT ? AS name, ? AS value) AS s ON t.name = s.name "
            "WHEN MATCHED THEN UPDATE SET value = s.value, updated_at = CURRENT_TIMESTAMP() "
            "WHEN NOT MATCHED THEN INSERT (name, value, updated_at) VALUES (s.name, s.value, CURRENT_TIMESTAMP())",
            [name, value],
        )

    def read_state(self, stream: str) -> dict[str, Any] | None:
        rows = self.sql("SELECT state FROM config.sync_state WHERE stream = ?", [stream])
        if not rows or rows[0][0] is None:
            return None
        value = rows[0][0]
        return json.loads(value) if isinstance(value, str) else dict(value)

    def save_state(self, stream: str, state: dict[str, Any]) -> None:
        self.sql(
            "MERGE INTO config.sync_state AS t USING (SELECT ? AS stream, PARSE_JSON(?) AS state, "
            f"TO_TIMESTAMP_TZ(?, '{TIMESTAMP_FORMAT}') AS cursor) AS s ON t.stream = s.stream "
            "WHEN MATCHED THEN UPDATE SET state = s.state, cursor = s.cursor, updated_at = CURRENT_TIMESTAMP() "
            "WHEN NOT MATCHED THEN INSERT (stream, state, cursor, updated_at) "
            "VALUES (s.stream, s.state, s.cursor, CURRENT_TIMESTAMP())",
            [stream, json.dumps(state), canonical_timestamp(state.get("cursor"))],
        )

    def reset_state(self, stream: str) -> None:
        self.sql("DELETE FROM config.sync_state WHERE stream = ?", [stream])

    # -- ingestion history ------------------------------------------------------------------

    def history_start(self, run_id: str, stream: str, procedure: str) -> None:
        self.sql(
            "INSERT INTO public.ingestion_history (run_id, stream, procedure_name, started_at, status) "
            "SELECT ?, ?, ?, CURRENT_TIMESTAMP(), 'RUNNING'",
            [run_id, stream, procedure],
        )

    def history_end(self, run_id: str, stream: str, status: str, summary: dict[str, Any], error: str | None) -> None:
        self.sql(
            "UPDATE public.ingestion_history SET ended_at = CURRENT_TIMESTAMP(), status = ?, rows_merged = ?, "
            "records_read = ?, windows = ?, requests = ?, warnings = PARSE_JSON(?), error = ? "
            "WHERE run_id = ? AND stream = ?",
            [
                status,
                summary.get("rows_merged", 0),
                summary.get("records_read", 0),
                summary.get("windows", 0),
                summary.get("requests", 0),
                json.dumps(summary.get("warnings", [])),
                error,
                run_id,
                stream,
            ],
        )

    # -- the MERGE --------------------------------------------------------------------------

    def merge(self, stream: str, pages: list[list[dict[str, Any]]], warnings: list[str]) -> int:
        """Upserts pages of normalized records into the stream's table; returns rows inserted or
        updated. Duplicates within the batch collapse to the newest version (then last fetched)."""
        spec = STREAMS[stream]
        properties = frozenset(c[0] for c in spec["columns"])
        timestamps = [c[0] for c in spec["columns"] if c[1] == "timestamp"]
        payloads: list[tuple[int, str]] = []
        seq = 0
        bad = 0
        for page in pages:
            for record in page:
                known, extras = split_extras(record, properties)
                for col in timestamps:
                    value = known.get(col)
                    if value is not None:
                        known[col] = canonical_timestamp(value)
                        bad += known[col] is None
                seq += 1
                element = {"s": seq, "r": known, "x": extras}
                payloads.append((seq, json.dumps(element, separators=(",", ":"), ensure_ascii=False)))
        if bad:
            warnings.append(f"{stream}: {bad} timestamp values were not ISO 8601 and were loaded as NULL")
        if not payloads:
            return 0
        if not self._stage_ready:
            self.sql(STAGE_DDL)
            self._stage_ready = True
        batch = str(uuid.uuid4())
        import pandas  # only the loading procedures need it (PACKAGES includes pandas)

        frame = pandas.DataFrame(
            {
                "BATCH_ID": [batch] * len(payloads),
                "STREAM": [stream] * len(payloads),
                "SEQ": pandas.Series([p[0] for p in payloads], dtype="int64"),
                "ELEMENT": [p[1] for p in payloads],
            }
        )
        # One chunk, so one Parquet file and one PUT whatever the number of rows (in a procedure
        # the default chunk is 100,000 rows).
        self.session.write_pandas(
            frame, STAGE_TABLE, schema=STAGE_SCHEMA, chunk_size=len(frame), quote_identifiers=True
        )
        self.statements += WRITE_PANDAS_STATEMENTS
        try:
            rows = self.sql(staged_merge_sql(stream), [batch])
        finally:
            self.sql("DELETE FROM config.load_stage WHERE batch_id = ?", [batch])
        # MERGE answers one row: (number of rows inserted, number of rows updated).
        return sum(int(v) for v in rows[0]) if rows else 0
