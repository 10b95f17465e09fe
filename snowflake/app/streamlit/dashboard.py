"""Orchestra reliability dashboard, page 1: sync health (is the data in these tables current?).

The app's default Streamlit (manifest artifacts.default_streamlit). Every page reads the views of
schema `analytics` (docs/analytics.md) with a LIMIT, so a year of history stays quick.
"""

from __future__ import annotations

import streamlit as st
from orchestra_data import days_filter, pick_days, query, view

st.set_page_config(page_title="Orchestra: sync health", layout="wide")
st.title("Sync health")
st.caption(
    "Each stream's last load, its last success, failures, rows and lag. "
    "Lag is how far behind Orchestra the table is complete (now minus the stream's cursor)."
)

health = query(f"SELECT * FROM {view('sync_health')} ORDER BY stream LIMIT 10")
if health["LAST_LOAD_STARTED_AT"].isna().all():
    st.info("No load has run yet. An admin runs CALL core.load_all(); or enables the schedule.")
else:
    for column, (_, row) in zip(st.columns(len(health)), health.iterrows(), strict=False):
        with column:
            status = row["LAST_LOAD_STATUS"] or "never loaded"
            failures = int(row["FAILURES_SINCE_SUCCESS"])
            st.metric(
                row["STREAM"],
                status,
                delta=f"{failures} failed loads since the last success" if failures else None,
                delta_color="inverse",
            )
            lag = row["LAG_MINUTES"]
            st.caption(f"Lag: {lag / 60:,.1f} h" if lag == lag and lag is not None else "Lag: unknown")
    st.subheader("Per stream")
    st.dataframe(
        health[
            [
                "STREAM",
                "LAST_LOAD_STATUS",
                "LAST_LOAD_STARTED_AT",
                "LAST_LOAD_ROWS_MERGED",
                "LAST_SUCCESS_AT",
                "MINUTES_SINCE_SUCCESS",
                "COMPLETE_UP_TO",
                "LAG_MINUTES",
                "LOADS_24H",
                "FAILED_LOADS_24H",
                "ROWS_MERGED_24H",
                "FAILURES_SINCE_SUCCESS",
                "LAST_ERROR",
            ]
        ],
        hide_index=True,
        width="stretch",
    )

days = pick_days("sync_days")
daily_view = view("sync_daily")
daily = query(
    f"SELECT day, stream, loads, failed_loads, rows_merged, mean_seconds FROM {daily_view} "
    f"WHERE {days_filter('day', daily_view, days)} ORDER BY day, stream LIMIT 3000"
)
st.subheader("Loads per day")
if daily.empty:
    st.info("No loads in this period.")
else:
    left, right = st.columns(2)
    with left:
        st.caption("Rows merged per day and stream")
        st.bar_chart(daily, x="DAY", y="ROWS_MERGED", color="STREAM")
    with right:
        st.caption("Failed loads per day and stream")
        st.bar_chart(daily, x="DAY", y="FAILED_LOADS", color="STREAM")
