"""Issue 12, item 4: the analytics views over tables shaped as Airbyte's Snowflake destination
writes them, filled from `node bin/main read` output, give the same figures as over the app's tables.

The destination's final tables (Destinations V2, "Append + Deduped"): one table per stream named
after it, one row per primary key (the latest record), every column name upper-cased
(toSnowflakeCompatibleName in destination-snowflake,
https://github.com/airbytehq/airbyte/tree/master/airbyte-integrations/connectors/destination-snowflake),
types by JSON schema type (string VARCHAR, integer NUMBER, number FLOAT, boolean BOOLEAN,
timestamp_with_timezone TIMESTAMP_TZ, array ARRAY, object OBJECT), plus the meta columns
_AIRBYTE_RAW_ID, _AIRBYTE_EXTRACTED_AT, _AIRBYTE_META and _AIRBYTE_GENERATION_ID
(https://docs.airbyte.com/understanding-airbyte/airbyte-metadata-fields).
The recipe (docs/analytics.md): the part of analytics.sql above the app-only line, with the schema
names replaced (support/analytics_history.py portable_sql).
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import snowflake.connector.pandas_tools
from support.analytics_history import APP_ONLY_MARKER, FileFake, install_data_and_analytics, opened, portable_sql
from support.analytics_sla import Procedure, set_pipeline_sla
from support.fake_snowflake import split_statements
from support.simulator import ROOT, Simulator

STREAMS = ("pipeline_runs", "task_runs", "operations")
RAW, ANALYTICS, CONFIG = "ORCHESTRA_RAW", "ORCHESTRA_ANALYTICS", "ORCHESTRA_ANALYTICS_CONFIG"
SIMULATION = (
    "--scenario",
    "calm",
    "--clock",
    "manual",
    "--start",
    "2026-06-04T00:00:00Z",
    "--seed",
    "7",
    "--records",
    "6000",
)
SLAS = (("ml_models_1", 30.0, None, None), ("marketing_ingest_2", 45.0, "06:00", "Europe/Paris"))
# Columns that depend on the moment of the query, not on the data.
NOW_DEPENDENT = {"MINUTES_SINCE_SUCCESS", "ACTUAL_MINUTES", "MINUTES_OVER", "UPDATED_AT"}


def destination_type(prop: dict[str, Any]) -> str:
    types = [t for t in (prop["type"] if isinstance(prop["type"], list) else [prop["type"]]) if t != "null"]
    kind = types[0] if len(types) == 1 else "union"
    if kind == "string" and prop.get("airbyte_type") == "timestamp_with_timezone":
        return "TIMESTAMP_TZ"
    names = {
        "string": "VARCHAR",
        "integer": "NUMBER",
        "number": "FLOAT",
        "boolean": "BOOLEAN",
        "array": "ARRAY",
        "object": "OBJECT",
    }
    return names.get(kind, "VARIANT")


def airbyte_read(sim: Simulator, tmp: Path) -> list[dict[str, Any]]:
    """The source as a user runs it: RECORD messages of an incremental read of all three streams."""
    config = {
        "api_key": sim.api_key,
        "api_url": sim.base_url,
        "requests_per_minute": 100000,
        "include_superseded": True,
    }
    catalog = json.loads((ROOT / "integration_tests" / "configured_catalog.json").read_text())
    (tmp / "config.json").write_text(json.dumps(config))
    (tmp / "catalog.json").write_text(json.dumps(catalog))
    out = subprocess.run(
        [
            "node",
            str(ROOT / "bin" / "main"),
            "read",
            "--config",
            str(tmp / "config.json"),
            "--catalog",
            str(tmp / "catalog.json"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return [m["record"] for m in map(json.loads, out.stdout.splitlines()) if m.get("type") == "RECORD"]


def write_like_the_destination(fake: FileFake, records: list[dict[str, Any]]) -> dict[str, int]:
    """Final tables as destination-snowflake creates them, deduplicated on `id` (last record wins)."""
    fake.query(f"CREATE SCHEMA IF NOT EXISTS {RAW}")
    fake.query(f'CREATE TABLE {RAW}."_STAGED" ("STREAM" VARCHAR, "SEQ" NUMBER, "DATA" VARCHAR, "AT" VARCHAR)')
    extracted = [datetime.fromtimestamp(r["emitted_at"] / 1000, UTC).isoformat() for r in records]
    frame = pd.DataFrame(
        {
            "STREAM": [r["stream"] for r in records],
            "SEQ": range(len(records)),
            "DATA": [json.dumps(r["data"]) for r in records],
            "AT": extracted,
        }
    )
    assert snowflake.connector.pandas_tools.write_pandas(fake.conn, frame, "_STAGED", schema=RAW)[0]
    counts = {}
    for stream in STREAMS:
        props = json.loads((ROOT / "resources" / "schemas" / f"{stream}.json").read_text())["properties"]
        columns = [(name.upper(), destination_type(p)) for name, p in props.items()]
        meta = [
            ("_AIRBYTE_RAW_ID", "VARCHAR NOT NULL"),
            ("_AIRBYTE_EXTRACTED_AT", "TIMESTAMP_TZ NOT NULL"),
            ("_AIRBYTE_META", "VARIANT NOT NULL"),
            ("_AIRBYTE_GENERATION_ID", "NUMBER"),
        ]
        ddl = ", ".join(f'"{c}" {t}' for c, t in meta + columns)
        fake.query(f'CREATE TABLE {RAW}."{stream.upper()}" ({ddl})')
        values = []
        for name, kind in columns:
            field = f'PARSE_JSON("DATA"):"{name.lower()}"'
            cast = {
                "ARRAY": f"{field}::ARRAY",
                "OBJECT": f"{field}::OBJECT",
                "VARIANT": field,
                "TIMESTAMP_TZ": f"{field}::VARCHAR::TIMESTAMP_TZ",
            }.get(kind, f"{field}::{kind}")
            values.append(cast)
        fake.query(
            f'INSERT INTO {RAW}."{stream.upper()}" ({", ".join(chr(34) + c + chr(34) for c, _ in meta + columns)}) '
            'SELECT UUID_STRING(), "AT"::TIMESTAMP_TZ, PARSE_JSON(\'{"changes": []}\'), 0, '
            f'{", ".join(values)} FROM {RAW}."_STAGED" WHERE "STREAM" = \'{stream}\' '
            f'QUALIFY ROW_NUMBER() OVER (PARTITION BY PARSE_JSON("DATA"):"id"::VARCHAR ORDER BY "SEQ" DESC) = 1'
        )
        counts[stream] = fake.query(f'SELECT COUNT(*) FROM {RAW}."{stream.upper()}"')[0][0]
    fake.query(f'DROP TABLE {RAW}."_STAGED"')
    return counts


def load_with_the_app(fake: FileFake, sim: Simulator) -> None:
    from orchestra_app.client import OrchestraClient
    from orchestra_app.handlers import set_setting
    from orchestra_app.loader import ALL_STREAMS, load
    from orchestra_app.settings import Settings
    from orchestra_app.store import Store

    install_data_and_analytics(fake.session)
    for name, value in {"api_url": sim.base_url, "requests_per_minute": "100000", "include_superseded": "true"}.items():
        set_setting(fake.session, name, value)
    store = Store(fake.session)
    settings = Settings.from_rows(store.read_settings())
    client = OrchestraClient(settings.client_options(sim.api_key))
    try:
        load(store, client, settings, ALL_STREAMS, "core.load_all")
    finally:
        client.close()


def rows(fake: FileFake, sql: str) -> list[tuple[Any, ...]]:
    out = []
    for row in fake.query(sql):
        d = row.as_dict()
        out.append(
            tuple(
                (k, round(float(v), 6) if isinstance(v, float) else v)
                for k, v in sorted(d.items())
                if k not in NOW_DEPENDENT
            )
        )
    return sorted(out, key=repr)


def test_the_views_over_airbyte_destination_tables_equal_the_views_over_the_apps_tables(tmp_path: Path) -> None:
    recipe = portable_sql(RAW, ANALYTICS, CONFIG)
    assert "public." not in recipe and "ingestion_history" not in recipe
    with opened(tmp_path / "db") as fake, Simulator(*SIMULATION) as sim:
        counts = write_like_the_destination(fake, airbyte_read(sim, tmp_path))
        assert min(counts.values()) > 300, counts
        columns = {
            r[0]
            for r in fake.query(
                f"SELECT column_name FROM information_schema.columns WHERE table_schema = '{RAW}' "
                "AND table_name = 'PIPELINE_RUNS'"
            )
        }
        assert {"ID", "RUN_STATUS", "COMMIT", "_AIRBYTE_RAW_ID", "_AIRBYTE_META"} <= columns, columns
        for statement in split_statements(recipe):
            fake.session.sql(statement).collect()
        procedure = Procedure(f"{ANALYTICS}.set_pipeline_sla", recipe)
        for sla in SLAS:
            procedure.call(fake.session, *sla)
        load_with_the_app(fake, sim)
        for sla in SLAS:
            set_pipeline_sla(fake.session, *sla)

        views = [v.split(".")[1].strip() for v in split_statements(recipe) if v.startswith("CREATE OR REPLACE VIEW")]
        views = [v.split()[0] for v in views]
        assert len(views) == 12, views
        for view in views:
            ours, theirs = (
                rows(fake, f"SELECT * FROM analytics.{view}"),
                rows(fake, f"SELECT * FROM {ANALYTICS}.{view}"),
            )
            assert ours == theirs, f"{view}: {len(ours)} rows over the app's tables, {len(theirs)} over Airbyte's"
            assert ours, f"{view} is empty: nothing compared"
        print(f"\n{len(views)} views equal over {counts} Airbyte destination rows and the app's tables")


def test_the_recipe_fails_loudly_on_a_table_without_the_columns_it_needs(tmp_path: Path) -> None:
    """A schema that is not the destination's (here: no RUN_STATUS) breaks at CREATE VIEW time, as
    in Snowflake, instead of giving empty figures."""
    with opened(tmp_path / "db") as fake:
        fake.query(f"CREATE SCHEMA {RAW}")
        kept = ("ID", "PIPELINE_ID", "PIPELINE_NAME", "ENV_NAME", "PIPELINE_VERSION_NUMBER")
        times = ("CREATED_AT", "STARTED_AT", "COMPLETED_AT")
        ddl = ", ".join([f'"{c}" VARCHAR' for c in kept] + [f'"{c}" TIMESTAMP_TZ' for c in times])
        fake.query(f'CREATE TABLE {RAW}."PIPELINE_RUNS" ({ddl})')
        statements = split_statements(portable_sql(RAW, ANALYTICS, CONFIG))
        for statement in statements[:3]:
            fake.session.sql(statement).collect()
        try:
            fake.session.sql(statements[3]).collect()
            fake.query(f"SELECT * FROM {ANALYTICS}.run_outcomes")
        except Exception as exc:  # noqa: BLE001 - any engine error naming the column will do
            assert "run_status" in str(exc).lower(), exc
        else:
            raise AssertionError("the view over a table without RUN_STATUS must fail")


def test_the_recipe_in_the_docs_produces_the_tested_sql(tmp_path: Path) -> None:
    """docs/analytics.md's shell lines (GNU sed) give exactly the SQL the test above runs."""
    doc = (ROOT / "docs" / "analytics.md").read_text()
    block = doc.split("```sh\nsed -n", 1)[1].split("```", 1)[0]
    command = "sed -n" + block.split("snow sql", 1)[0].replace("> orchestra_analytics.sql", f"> {tmp_path}/out.sql")
    subprocess.run(["bash", "-c", command], cwd=ROOT, check=True, timeout=30)
    produced = (tmp_path / "out.sql").read_text().split(APP_ONLY_MARKER, 1)[0]
    assert produced == portable_sql(RAW, ANALYTICS, CONFIG)
