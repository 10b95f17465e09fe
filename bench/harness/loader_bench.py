"""The native app's loader (core.load_all) through fakesnow, against the simulator: SQL statements
per load and rows/s. Called by bench/harness/loader.ts; prints one JSON line on stdout.

    python3 bench/harness/loader_bench.py --records 10000 [--start ISO]

Uses the app's own test support (snowflake/tests/support): the setup script run on fakesnow, the
`_snowflake` secret API emulated, the simulator as a subprocess. Nothing here changes the loader.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "snowflake" / "app" / "python"))
sys.path.insert(0, str(ROOT / "snowflake" / "tests"))

from orchestra_app import handlers  # noqa: E402
from support.fake_snowflake import FakeSnowflake, run_setup_script  # noqa: E402
from support.simulator import Simulator  # noqa: E402

STREAM_TABLES = ("pipeline_runs", "task_runs", "operations")
BENCH_KEY = "bench-loader-key-0001"

# fakesnow notes an extra copy of result rows on every query; irrelevant to what is measured here.
warnings.filterwarnings("ignore", message="Arrow output on a DB-API result")


def first_keyword(statement: str) -> str:
    words = statement.strip().split(None, 2)
    if not words:
        return "(empty)"
    if words[0].upper() in ("CREATE", "ALTER", "DROP") and len(words) > 1:
        return f"{words[0].upper()} {words[1].upper()}"
    return words[0].upper()


def run(records: int, start: str) -> dict[str, Any]:
    sim = Simulator(
        "--scenario",
        "calm",
        "--clock",
        "manual",
        "--start",
        start,
        "--records",
        str(records),
        api_key=BENCH_KEY,
    )
    snow = FakeSnowflake()
    try:
        run_setup_script(snow.session)
        handlers.set_api_key(snow.session, BENCH_KEY)
        handlers.set_setting(snow.session, "api_url", sim.base_url)
        # The benchmark measures the loader, not the client-side request budget.
        handlers.set_setting(snow.session, "requests_per_minute", "100000")

        sql_seconds = 0.0
        execute = snow.session.execute

        def timed(query: str, params: list[Any] | None = None) -> Any:
            nonlocal sql_seconds
            began = time.perf_counter()
            try:
                return execute(query, params)
            finally:
                sql_seconds += time.perf_counter() - began

        snow.session.execute = timed  # type: ignore[method-assign]
        before = len(snow.session.statements)
        began = time.perf_counter()
        summary = handlers.load_all(snow.session)
        seconds = time.perf_counter() - began
        statements = snow.session.statements[before:]
        snow.session.execute = execute  # type: ignore[method-assign]

        rows = sum(int(snow.query(f"SELECT COUNT(*) FROM public.{t}")[0][0]) for t in STREAM_TABLES)
        return {
            "records": records,
            "records_read": sum(s.get("records_read", 0) for s in summary["streams"].values()),
            "rows_merged": summary["rows_merged"],
            "rows_in_table": rows,
            "requests": summary["requests"],
            "statements": len(statements),
            "statements_reported_by_loader": summary.get("sql_statements"),
            "statements_by_kind": dict(Counter(first_keyword(s) for s in statements)),
            "seconds": round(seconds, 2),
            "sql_seconds": round(sql_seconds, 2),
            "rows_per_s": round(rows / seconds) if seconds > 0 else 0,
        }
    finally:
        snow.close()
        sim.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, required=True)
    parser.add_argument("--start", default="2026-03-02T12:00:00Z")
    args = parser.parse_args()
    print(json.dumps(run(args.records, args.start)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
