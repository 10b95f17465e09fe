"""Everything the loader says to Snowflake, through a Snowpark-style `session`.

Only `session.sql(query, params=[...]).collect()` is used, so the same code runs in a stored
procedure and, in tests, through fakesnow. Statements per load are bounded by windows: one MERGE
per window (more only when a window's pages exceed MAX_PAGES_PER_MERGE or MAX_BYTES_PER_MERGE),
one state write per window, and a fixed handful per stream.
"""

from __future__ import annotations

import json
from typing import Any

from .normalize import canonical_timestamp, split_extras
from .schema import STREAMS, TIMESTAMP_FORMAT

# Each page is one bound VARCHAR parsed to a VARIANT (at most 16 MB each in Snowflake); a MERGE
# carries at most this many pages or bytes so one statement stays well inside Snowflake's limits.
MAX_PAGES_PER_MERGE = 200
MAX_BYTES_PER_MERGE = 48 * 1024 * 1024


class Store:
    def __init__(self, session: Any) -> None:
        self.session = session
        self.statements = 0

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
        """Upserts pages of normalised records into the stream's table; returns rows inserted or
        updated. Duplicates within the batch collapse to the newest version (then last fetched)."""
        spec = STREAMS[stream]
        properties = frozenset(c[0] for c in spec["columns"])
        timestamps = [c[0] for c in spec["columns"] if c[1] == "timestamp"]
        payloads: list[str] = []
        seq = 0
        bad = 0
        for page in pages:
            elements = []
            for record in page:
                known, extras = split_extras(record, properties)
                for col in timestamps:
                    value = known.get(col)
                    if value is not None:
                        known[col] = canonical_timestamp(value)
                        bad += known[col] is None
                seq += 1
                elements.append({"s": seq, "r": known, "x": extras})
            if elements:
                payloads.append(json.dumps(elements, separators=(",", ":"), ensure_ascii=False))
        if bad:
            warnings.append(f"{stream}: {bad} timestamp values were not ISO 8601 and were loaded as NULL")
        merged = 0
        for chunk in _chunks(payloads):
            sql = spec["merge_sql"].replace("{pages}", ", ".join("(?)" for _ in chunk))
            rows = self.sql(sql, chunk)
            # MERGE answers one row: (number of rows inserted, number of rows updated).
            merged += sum(int(v) for v in rows[0]) if rows else 0
        return merged


def _chunks(payloads: list[str]) -> list[list[str]]:
    chunks: list[list[str]] = []
    current: list[str] = []
    size = 0
    for p in payloads:
        if current and (len(current) >= MAX_PAGES_PER_MERGE or size + len(p) > MAX_BYTES_PER_MERGE):
            chunks.append(current)
            current, size = [], 0
        current.append(p)
        size += len(p)
    if current:
        chunks.append(current)
    return chunks
