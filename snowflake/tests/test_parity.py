"""Parity (issue test 4): for the same API pages, the rows in the Snowflake tables equal the records
of the Airbyte source, field by field (timestamps as instants, VARIANT as JSON, exactly).

The real source (`node bin/main read`, full refresh, all three streams) and the app's loader read
the same simulator, whose manual clock does not move between the two reads.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from orchestra_app import handlers
from orchestra_app.schema import STREAMS
from support.fake_snowflake import FakeSnowflake
from support.rows import differences, select_list
from support.simulator import ROOT, Simulator


def airbyte_read(sim: Simulator, tmp: Path) -> dict[str, dict[str, dict[str, Any]]]:
    config = {"api_key": sim.api_key, "api_url": sim.base_url, "requests_per_minute": 100000, "window_hours": 24}
    catalog = {
        "streams": [
            {
                "stream": {"name": s, "json_schema": {}, "supported_sync_modes": ["full_refresh", "incremental"]},
                "sync_mode": "full_refresh",
                "destination_sync_mode": "overwrite",
                "primary_key": [["id"]],
            }
            for s in STREAMS
        ]
    }
    (tmp / "config.json").write_text(json.dumps(config))
    (tmp / "catalog.json").write_text(json.dumps(catalog))
    out = subprocess.run(
        ["node", str(ROOT / "bin" / "main"), "read", "--config", str(tmp / "config.json"),
         "--catalog", str(tmp / "catalog.json")],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr[-2000:] + out.stdout[-2000:]
    records: dict[str, dict[str, dict[str, Any]]] = {s: {} for s in STREAMS}
    for line in out.stdout.splitlines():
        message = json.loads(line)
        if message.get("type") == "RECORD":
            record = message["record"]
            records[record["stream"]][record["data"]["id"]] = record["data"]  # last copy wins, as a dedup would
    assert sim.api_key not in out.stdout + out.stderr
    return records


def test_snowflake_rows_equal_the_airbyte_records_field_by_field(app: FakeSnowflake, tmp_path: Path) -> None:
    with Simulator("--scenario", "calm", "--clock", "manual", "--start", "2026-04-06T09:30:00Z", "--seed", "17",
                   "--records", "2000") as sim:
        source = airbyte_read(sim, tmp_path)
        handlers.set_api_key(app.session, sim.api_key)
        handlers.set_setting(app.session, "api_url", sim.base_url)
        handlers.set_setting(app.session, "requests_per_minute", "100000")
        handlers.load_all(app.session)
        for stream in STREAMS:
            rows = {r[0]: tuple(r) for r in app.query(f"SELECT {select_list(stream)} FROM public.{stream}")}
            records = source[stream]
            assert len(records) > 100, f"{stream}: too few records to compare ({len(records)})"
            assert set(rows) == set(records), (
                f"{stream}: only in Snowflake {sorted(set(rows) - set(records))[:5]}, "
                f"only in Airbyte {sorted(set(records) - set(rows))[:5]}"
            )
            problems = [d for i, rec in records.items() for d in differences(stream, rec, rows[i], lenient=False)]
            assert not problems, f"{stream}: {len(problems)} fields differ:\n" + "\n".join(problems[:10])
            print(f"{stream}: {len(records)} records = {len(rows)} rows, every field equal")
