"""A simulated history loaded through the app's real loader into a fakesnow database kept on disk,
plus the analytics SQL installed over it. Shared by the analytics tests, the dashboard tests and
scripts/dashboard-screenshots.sh (which starts Streamlit on the same files)."""

from __future__ import annotations

import atexit
import json
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import fakesnow
import snowflake.connector

from support.fake_snowflake import APP_DIR, FakeSession, Row, Runtime, run_setup_script, split_statements
from support.simulator import Simulator

SQL_DIR = APP_DIR / "sql"

ANALYTICS_SQL = SQL_DIR / "analytics.sql"
DATABASE = "ORCHESTRA_DATA_APP"
# The part of analytics.sql that reads only the three stream tables (what an Airbyte Snowflake
# destination also writes) ends at this line; what follows reads the app's own ingestion history.
APP_ONLY_MARKER = "-- ==== app only"
HOUR_MS = 3_600_000
# Simulated world: seed 7 with 6,000 records gives three pipelines running every 1 to 2 hours,
# retried tasks, failures, cancellations and runs that last more than a day.
# At load number `fail_load` the operations endpoint answers 500 more often than the client retries,
# so that stream's load fails (recorded as FAILED) and the next load resumes it.
HISTORY = {
    "seed": "7",
    "records": "6000",
    "start": "2026-06-01T00:00:00Z",
    "days": 3,
    "every_hours": 12,
    "fail_load": 3,
}


class FileFake:
    """A fakesnow database kept in files under `db_path`, so another process (Streamlit) or a later
    test can open the same data; statements go through the stand-in's FakeSession."""

    def __init__(self, db_path: Path, database: str = DATABASE) -> None:
        db_path.mkdir(parents=True, exist_ok=True)
        self._patch = fakesnow.patch(db_path=str(db_path))
        self._patch.__enter__()
        try:
            self.conn = snowflake.connector.connect(database=database, schema="PUBLIC", paramstyle="qmark")
        except BaseException:
            self._patch.__exit__(None, None, None)
            raise
        self.session = FakeSession(self.conn, Runtime(), database)

    def query(self, sql: str, params: list[Any] | None = None) -> list[Row]:
        return self.session.execute(sql, params)

    def close(self) -> None:
        self.conn.close()
        self._patch.__exit__(None, None, None)


@contextmanager
def opened(db_path: Path) -> Iterator[FileFake]:
    fake = FileFake(db_path)
    try:
        yield fake
    finally:
        fake.close()


def analytics_statements(sql: str | None = None) -> list[str]:
    return split_statements(sql if sql is not None else ANALYTICS_SQL.read_text())


def install_analytics(session: Any, sql: str | None = None) -> None:
    """Runs analytics.sql as the setup script would (after tables.sql and state.sql). The SLA
    procedure is recorded by the fake's runtime (fakesnow has no procedures); analytics_sla.py
    runs its body."""
    for statement in analytics_statements(sql):
        session.sql(statement).collect()


def portable_sql(source_schema: str, analytics_schema: str, config_schema: str) -> str:
    """The recipe of docs/analytics.md for Airbyte Snowflake-destination users: the part before the
    app-only marker, with the schema names replaced."""
    text = ANALYTICS_SQL.read_text().split(APP_ONLY_MARKER, 1)[0]
    text = re.sub(r"\bpublic\.", f"{source_schema}.", text)
    text = re.sub(r"\banalytics\.", f"{analytics_schema}.", text)
    text = re.sub(r"\bconfig\.", f"{config_schema}.", text)
    text = re.sub(r"SCHEMA IF NOT EXISTS analytics\b", f"SCHEMA IF NOT EXISTS {analytics_schema}", text)
    return re.sub(r"SCHEMA IF NOT EXISTS config\b", f"SCHEMA IF NOT EXISTS {config_schema}", text)


def install_data_and_analytics(session: Any) -> None:
    """The app's data and state schemas (tables.sql, state.sql, as the setup script runs them) and
    analytics.sql. The rest of the setup script (secret, egress, procedures) is not needed to
    read the views and is tested elsewhere."""
    for name in ("tables.sql", "state.sql"):
        run_setup_script(session, SQL_DIR / name)
    install_analytics(session)


def build_history(db_path: Path, **overrides: Any) -> dict[str, list[dict[str, Any]]]:
    """Loads HISTORY with the app's loader (orchestra_app.loader.load, as core.load_all runs it: a
    first load of the API's 7 days, then one load every `every_hours` simulated hours for `days`
    days) into files under db_path, with analytics.sql installed, and returns the simulator's
    ground truth at the end (also saved as truth.json). Runs still in progress at the last load
    stay in progress in the tables."""
    from orchestra_app import client as client_module
    from orchestra_app.client import OrchestraClient
    from orchestra_app.errors import OrchestraError
    from orchestra_app.handlers import set_setting
    from orchestra_app.loader import ALL_STREAMS, load
    from orchestra_app.settings import Settings
    from orchestra_app.store import Store

    spec = {**HISTORY, **overrides}
    db_path.mkdir(parents=True, exist_ok=True)
    original_pause = client_module.pause
    client_module.pause = lambda _seconds: None  # simulated time: no real waiting on retries
    try:
        with (
            opened(db_path) as fake,
            Simulator(
                "--scenario",
                "calm",
                "--clock",
                "manual",
                "--start",
                spec["start"],
                "--seed",
                spec["seed"],
                "--records",
                spec["records"],
            ) as sim,
        ):
            install_data_and_analytics(fake.session)
            for name, value in {
                "api_url": sim.base_url,
                "requests_per_minute": "100000",
                "window_hours": "24",
                "include_superseded": "true",
            }.items():
                set_setting(fake.session, name, value)

            def load_all(number: int) -> None:
                store = Store(fake.session)
                settings = Settings.from_rows(store.read_settings())
                api = OrchestraClient(settings.client_options(sim.api_key))
                if number == spec["fail_load"]:
                    retries = api.options.max_attempts
                    sim.configure({"inject": [{"fault": "serverError", "count": retries, "endpoint": "operations"}]})
                try:
                    load(store, api, settings, ALL_STREAMS, "core.load_all")
                except OrchestraError:
                    assert number == spec["fail_load"], "only the load with injected errors may fail"
                finally:
                    api.close()

            load_all(0)
            for number in range(1, spec["days"] * 24 // spec["every_hours"] + 1):
                sim.advance(spec["every_hours"] * HOUR_MS)
                load_all(number)
            truth = {
                "pipeline_runs": sim.truth("pipeline_runs"),
                "task_runs": sim.truth("task_runs", include_superseded=True),
                "operations": sim.truth("operations"),
                "now": [{"now": sim.now()}],
            }
    finally:
        client_module.pause = original_pause
    (db_path / "truth.json").write_text(json.dumps(truth))
    return truth


# Example limits an admin sets once the history is loaded: a duration limit, a finish time in a
# time zone with daylight saving time, and both at once.
SLAS = (
    ("ml_models_1", 30.0, None, None),
    ("marketing_ingest_2", None, "06:00", "Europe/Paris"),
    ("ops_models_3", 20.0, "23:00", "America/New_York"),
)
_SHARED: dict[str, tuple[Path, dict[str, Any]]] = {}


def shared_history() -> tuple[Path, dict[str, Any]]:
    """HISTORY loaded once per test process (about 25 s), with SLAS set through the procedure;
    every analytics and dashboard test reads it. Tests that change it work on a copy()."""
    if "default" not in _SHARED:
        from support.analytics_sla import set_pipeline_sla

        path = Path(tempfile.mkdtemp(prefix="orchestra-analytics-"))
        atexit.register(shutil.rmtree, path, True)
        truth = build_history(path / "db")
        with opened(path / "db") as fake:
            for sla in SLAS:
                set_pipeline_sla(fake.session, *sla)
        _SHARED["default"] = (path / "db", truth)
    return _SHARED["default"]


def copy(db_path: Path, target: Path) -> Path:
    shutil.copytree(db_path, target)
    return target
