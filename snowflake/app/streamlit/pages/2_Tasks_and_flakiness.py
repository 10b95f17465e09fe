"""Page 3: task health, retries and flaky tasks, slowest tasks and operations."""

from __future__ import annotations

import streamlit as st
from orchestra_data import pick_pipelines, pipeline_filter, query, table, view

st.set_page_config(page_title="Orchestra: tasks and flakiness", layout="wide")
st.title("Tasks and flakiness")
st.caption(
    "Per pipeline and task, over the final attempt of each task in each run (earlier attempts of a "
    "retried task are superseded). Flaky: a failed attempt followed by a successful one of the same "
    "pipeline version, in the same run (a retry) or the next run."
)
pipelines = pick_pipelines("tasks_pipelines")
health = query(
    f"SELECT pipeline_name, task_name, task_id, integration, task_runs, attempts, failed, failure_rate, retried, "
    f"retried_then_succeeded, flaky_events, p50_duration_seconds, p95_duration_seconds, max_duration_seconds, "
    f"operations, rows_affected FROM {view('task_health')} WHERE TRUE{pipeline_filter(pipelines)} "
    f"ORDER BY failure_rate DESC NULLS LAST, failed DESC LIMIT 500"
)
if health.empty:
    st.info("No task runs loaded yet.")
    st.stop()

cols = st.columns(3)
cols[0].metric("Tasks", f"{len(health):,}")
cols[1].metric("Flaky tasks", f"{int((health['FLAKY_EVENTS'] > 0).sum()):,}")
cols[2].metric("Retried task runs", f"{int(health['RETRIED'].sum()):,}")

left, right = st.columns(2)
with left:
    st.subheader("Failure rate by task")
    top = health.dropna(subset=["FAILURE_RATE"]).head(15)
    st.bar_chart(
        top.assign(TASK=top["PIPELINE_NAME"] + " / " + top["TASK_NAME"]), x="TASK", y="FAILURE_RATE", horizontal=True
    )
with right:
    st.subheader("Flaky events by task")
    flaky = health[health["FLAKY_EVENTS"] > 0].sort_values("FLAKY_EVENTS", ascending=False).head(15)
    if flaky.empty:
        st.info("No flaky task in the history.")
    else:
        st.bar_chart(
            flaky.assign(TASK=flaky["PIPELINE_NAME"] + " / " + flaky["TASK_NAME"]),
            x="TASK",
            y="FLAKY_EVENTS",
            horizontal=True,
        )

st.subheader("Task health")
st.dataframe(health, hide_index=True, width="stretch")

st.subheader("Slowest tasks (p95 of final attempts, seconds)")
st.dataframe(
    health.sort_values("P95_DURATION_SECONDS", ascending=False).head(20)[
        ["PIPELINE_NAME", "TASK_NAME", "P50_DURATION_SECONDS", "P95_DURATION_SECONDS", "MAX_DURATION_SECONDS"]
    ],
    hide_index=True,
    width="stretch",
)

st.subheader("Slowest operations (p95 of operation_duration, seconds)")
table(
    f"SELECT integration, operation_type, operation_name, operations, failed, p50_duration_seconds, "
    f"p95_duration_seconds, max_duration_seconds, rows_affected FROM {view('operation_stats')} "
    f"ORDER BY p95_duration_seconds DESC NULLS LAST LIMIT 20"
)

with st.expander("Latest flaky events"):
    table(
        f"SELECT task_name, failed_at, succeeded_at, is_retry_in_same_run, pipeline_version_number "
        f"FROM {view('flaky_task_events')} WHERE TRUE{pipeline_filter(pipelines)} "
        f"ORDER BY succeeded_at DESC LIMIT 200"
    )
