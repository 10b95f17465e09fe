"""Data access for the dashboard pages: every query reads an `analytics` view, with a LIMIT.

Inside Snowflake the app's Streamlit gets the session Streamlit in Snowflake opened for it from
snowflake.snowpark.context.get_active_session(), which raises when there is none
(https://docs.snowflake.com/en/developer-guide/snowpark/reference/python/api/snowflake.snowpark.context.get_active_session.html).
Run locally it falls back to:
- ORCHESTRA_DASHBOARD_FAKESNOW_DIR set: the fakesnow database files written by the test stand-in
  (scripts/dashboard-screenshots.sh), read through the Snowflake connector API;
- otherwise a Snowpark session from your default connection (~/.snowflake/connections.toml), with
  ORCHESTRA_APP_DATABASE naming the installed app (views are then <app>.analytics.<view>).
"""

from __future__ import annotations

import os
import threading
from typing import Any

import pandas as pd
import streamlit as st

FAKESNOW_DIR = "ORCHESTRA_DASHBOARD_FAKESNOW_DIR"
APP_DATABASE = "ORCHESTRA_APP_DATABASE"
DAY_CHOICES = {"Last 7 days": 7, "Last 30 days": 30, "Last 90 days": 90, "Last 365 days": 365}
ROW_LIMIT = 500


class LocalFakesnowSession:
    """`sql(q).to_pandas()` over fakesnow files, for local runs only (fakesnow is a test tool and is
    not part of the app's Snowflake environment)."""

    _lock = threading.Lock()
    _patch: Any = None

    def __init__(self, directory: str) -> None:
        from unittest import mock

        import fakesnow
        import snowflake.connector

        if not isinstance(snowflake.connector.connect, mock.MagicMock):  # not already patched (tests)
            # Kept referenced: a collected context manager would undo the patch.
            LocalFakesnowSession._patch = fakesnow.patch(db_path=directory)
            LocalFakesnowSession._patch.__enter__()  # for the life of this local process
        self.conn = snowflake.connector.connect(database="ORCHESTRA_DATA_APP", schema="PUBLIC")

    def sql(self, query: str) -> LocalFakesnowSession._Frame:
        return self._Frame(self, query)

    class _Frame:
        def __init__(self, session: LocalFakesnowSession, query: str) -> None:
            self.session, self.query = session, query

        def to_pandas(self) -> pd.DataFrame:
            with LocalFakesnowSession._lock:  # one DuckDB connection, Streamlit runs pages in threads
                cur = self.session.conn.cursor()
                cur.execute(self.query)
                names = [d.name.upper() for d in cur.description]
                return pd.DataFrame(cur.fetchall(), columns=names)


def source() -> str:
    """What the data comes from: part of every cache key, so two sources never share results."""
    return os.environ.get(FAKESNOW_DIR) or os.environ.get(APP_DATABASE) or "active-session"


def _connect() -> Any:
    try:
        from snowflake.snowpark.context import get_active_session

        return get_active_session()
    except Exception:  # noqa: BLE001 - no active session: not running inside Snowflake
        pass
    if os.environ.get(FAKESNOW_DIR):
        return LocalFakesnowSession(os.environ[FAKESNOW_DIR])
    from snowflake.snowpark import Session

    return Session.builder.getOrCreate()


def session() -> Any:
    if "orchestra_session" not in st.session_state:
        st.session_state["orchestra_session"] = _connect()
    return st.session_state["orchestra_session"]


def view(name: str) -> str:
    prefix = os.environ.get(APP_DATABASE)
    return f"{prefix}.analytics.{name}" if prefix else f"analytics.{name}"


@st.cache_data(ttl=300, show_spinner=False)
def _cached(sql: str, source_key: str) -> pd.DataFrame:  # both arguments are part of the cache key
    return _numeric(session().sql(sql).to_pandas())


def query(sql: str) -> pd.DataFrame:
    """A query's rows as a DataFrame (upper-case column names), cached for five minutes."""
    return _cached(sql, source())


def _numeric(frame: pd.DataFrame) -> pd.DataFrame:
    """Snowflake NUMBER columns arrive as Decimal objects: make them floats for the charts."""
    for column in frame.columns:
        if frame[column].dtype == object and frame[column].map(lambda v: v is None or hasattr(v, "as_tuple")).all():
            frame[column] = pd.to_numeric(frame[column], errors="coerce")
    return frame


def quoted(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def days_filter(column: str, table: str, days: int) -> str:
    """Rows of the last `days` days of data (up to the latest day in the view, so a history that
    stopped loading still shows its last days)."""
    return f"{column} > DATEADD(day, -{int(days)}, (SELECT MAX({column}) FROM {table}))"


def pick_days(key: str) -> int:
    label = st.sidebar.selectbox("Period", list(DAY_CHOICES), index=1, key=key)
    return DAY_CHOICES[label]


def pick_pipelines(key: str) -> list[str]:
    pipelines = query(
        f"SELECT pipeline_id, pipeline_name FROM {view('pipelines')} ORDER BY pipeline_name LIMIT {ROW_LIMIT}"
    )
    names = dict(zip(pipelines["PIPELINE_NAME"], pipelines["PIPELINE_ID"], strict=False))
    chosen = st.sidebar.multiselect("Pipelines (all when empty)", list(names), key=key)
    return [names[n] for n in chosen]


def pipeline_filter(ids: list[str], column: str = "pipeline_id") -> str:
    return f" AND {column} IN ({', '.join(quoted(i) for i in ids)})" if ids else ""


def table(sql: str) -> None:
    """A query's rows as a full-width table."""
    st.dataframe(query(sql), hide_index=True, width="stretch")
