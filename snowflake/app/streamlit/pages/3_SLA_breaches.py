"""Page 4: SLA breaches against the limits an admin sets with analytics.set_pipeline_sla."""

from __future__ import annotations

import streamlit as st
from orchestra_data import days_filter, pick_days, pick_pipelines, pipeline_filter, query, table, view

st.set_page_config(page_title="Orchestra: SLA breaches", layout="wide")
st.title("SLA breaches")
st.caption(
    "MAX_DURATION: a run took (or, still running, has taken) longer than its pipeline's limit. "
    "LATEST_FINISH: a run created before the day's deadline (local time of the limit's time zone) "
    "finished after it or is still running past it."
)
limits = query(f"SELECT * FROM {view('pipeline_slas')} ORDER BY pipeline_name LIMIT 500")
st.subheader("Limits")
if limits.empty:
    st.info(
        "No SLA is set. An admin sets one with, for example: "
        "CALL analytics.set_pipeline_sla('my_pipeline', 60, '07:00', 'Europe/London');"
    )
    st.stop()
st.dataframe(limits, hide_index=True, width="stretch")

days = pick_days("sla_days")
pipelines = pick_pipelines("sla_pipelines")
breaches_view = view("sla_breaches")
where = f"{days_filter('run_day', breaches_view, days)}{pipeline_filter(pipelines)}"
per_day = query(
    f"SELECT run_day, breach_type, COUNT(*) AS breaches FROM {breaches_view} WHERE {where} "
    f"GROUP BY run_day, breach_type ORDER BY run_day LIMIT 3000"
)
st.subheader("Breaches per day")
if per_day.empty:
    st.success("No breach in this period.")
else:
    st.bar_chart(per_day, x="RUN_DAY", y="BREACHES", color="BREACH_TYPE")
    st.subheader("Latest breaches")
    table(
        f"SELECT pipeline_name, pipeline_run_id, run_status, run_day, breach_type, still_running, limit_minutes, "
        f"deadline_utc, ROUND(actual_minutes, 1) AS actual_minutes, ROUND(minutes_over, 1) AS minutes_over "
        f"FROM {breaches_view} WHERE {where} ORDER BY run_day DESC, minutes_over DESC LIMIT 200"
    )
