"""Page 2: pipeline reliability per day, recovery after failures, freshness."""

from __future__ import annotations

import streamlit as st
from orchestra_data import days_filter, pick_days, pick_pipelines, pipeline_filter, query, table, view

st.set_page_config(page_title="Orchestra: pipeline reliability", layout="wide")
st.title("Pipeline reliability")
st.caption(
    "Runs per pipeline and UTC day of creation. Success rate = succeeded (including warnings) / "
    "(succeeded + failed); cancelled, skipped and running runs are counted but not rated. "
    "Durations are of runs that ended succeeded, warning or failed."
)
days = pick_days("reliability_days")
pipelines = pick_pipelines("reliability_pipelines")
daily_view = view("pipeline_daily_reliability")
daily = query(
    f"SELECT day, pipeline_name, runs, succeeded, failed, cancelled, in_progress, success_rate, "
    f"p50_duration_seconds, p95_duration_seconds FROM {daily_view} "
    f"WHERE {days_filter('day', daily_view, days)}{pipeline_filter(pipelines)} ORDER BY day LIMIT 20000"
)
if daily.empty:
    st.info("No pipeline runs loaded yet.")
    st.stop()

totals = daily[["RUNS", "SUCCEEDED", "FAILED", "CANCELLED"]].sum()
rated = totals["SUCCEEDED"] + totals["FAILED"]
cols = st.columns(4)
cols[0].metric("Runs", f"{int(totals['RUNS']):,}")
cols[1].metric("Success rate", f"{totals['SUCCEEDED'] / rated:.1%}" if rated else "n/a")
cols[2].metric("Failed", f"{int(totals['FAILED']):,}")
cols[3].metric("Cancelled", f"{int(totals['CANCELLED']):,}")

left, right = st.columns(2)
with left:
    st.subheader("Success rate per day")
    st.line_chart(daily, x="DAY", y="SUCCESS_RATE", color="PIPELINE_NAME")
with right:
    st.subheader("p95 duration per day (minutes)")
    st.line_chart(
        daily.assign(P95_MINUTES=daily["P95_DURATION_SECONDS"] / 60), x="DAY", y="P95_MINUTES", color="PIPELINE_NAME"
    )
st.subheader("Failed runs per day")
st.bar_chart(daily, x="DAY", y="FAILED", color="PIPELINE_NAME")

st.subheader("Freshness")
st.caption("The last successful run of each pipeline and how long ago it finished.")
table(
    f"SELECT pipeline_name, last_success_at, ROUND(minutes_since_success / 60, 1) AS hours_since_success, "
    f"last_run_status, last_run_created_at, failures_since_success FROM {view('pipeline_freshness')} "
    f"WHERE TRUE{pipeline_filter(pipelines)} ORDER BY minutes_since_success DESC NULLS FIRST LIMIT 500"
)

st.subheader("Recovery")
st.caption("For each failed run, the time until the same pipeline's next successful run finished.")
table(
    f"SELECT pipeline_name, failures, recovered, unrecovered, ROUND(mean_minutes_to_recovery, 1) AS "
    f"mean_minutes_to_recovery, ROUND(max_minutes_to_recovery, 1) AS max_minutes_to_recovery, failing_since "
    f"FROM {view('pipeline_recovery_summary')} WHERE TRUE{pipeline_filter(pipelines)} "
    f"ORDER BY unrecovered DESC, failures DESC LIMIT 500"
)
with st.expander("Latest failures"):
    table(
        f"SELECT pipeline_name, failed_run_id, failed_at, recovered_at, ROUND(minutes_to_recovery, 1) AS "
        f"minutes_to_recovery FROM {view('pipeline_recovery')} WHERE TRUE{pipeline_filter(pipelines)} "
        f"ORDER BY failed_at DESC LIMIT 200"
    )
