#!/usr/bin/env python3
"""Starts the Native App's dashboard locally on the stand-in's data and photographs every page with
headless Chromium; fails if a page shows an exception.

    python3 scripts/dashboard-screenshots.py [--out docs/img] [--data DIR]

Data: 3 simulated days loaded by the app's loader (snowflake/tests/support/analytics_history.py),
ending now, with the example SLA limits; or --data, a directory of fakesnow files such a run kept.
Needs: `npm run build` (the simulator), Python packages of requirements-dev.txt and
snowflake/app/streamlit/requirements-test.txt, and Debian's `chromium` and `chromium-driver`
(apt-get install -y chromium chromium-driver). The browser is driven through chromedriver's
W3C WebDriver HTTP API, so no Python browser package is needed.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
STREAMLIT_DIR = ROOT / "snowflake" / "app" / "streamlit"
# Page URL paths as Streamlit names files in pages/ (leading number and .py dropped).
PAGES = {
    "sync-health": "",
    "pipeline-reliability": "Pipeline_reliability",
    "tasks-and-flakiness": "Tasks_and_flakiness",
    "sla-breaches": "SLA_breaches",
}
# The app element's attributes Streamlit sets while it runs a page (its frontend bundle).
STATE_JS = """
const app = document.querySelector('[data-testid="stApp"]');
return app ? [app.getAttribute('data-test-script-state'), app.getAttribute('data-test-connection-state'),
  document.querySelectorAll('[data-testid="stException"]').length,
  Array.from(document.querySelectorAll('[data-testid="stException"]')).map(e => e.innerText.slice(0, 300)),
  document.querySelectorAll('h1').length] : null;
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http(method: str, url: str, body: Any = None, timeout: float = 60) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read() or b"null")


def wait_for(check: Any, what: str, seconds: float, state: Any = None) -> Any:
    """Polls `check` until it returns something true; on timeout the error shows `state()`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except OSError:
            pass
        time.sleep(0.3)
    last = f" (last seen: {state()})" if state else ""
    raise RuntimeError(f"timed out after {seconds:.0f} s waiting for {what}{last}")


def build_data(target: Path) -> Path:
    """3 simulated days ending now (so ages and lags read as they would in a live account)."""
    sys.path[:0] = [
        str(ROOT / "snowflake" / "tests"),
        str(ROOT / "snowflake" / "app" / "python"),
    ]
    from support.analytics_history import SLAS, build_history, opened
    from support.analytics_sla import set_pipeline_sla

    start = (datetime.now(UTC) - timedelta(days=3)).replace(
        minute=0, second=0, microsecond=0
    )
    db = target / "db"
    build_history(db, start=start.strftime("%Y-%m-%dT%H:%M:%SZ"))
    with opened(db) as fake:
        for sla in SLAS:
            set_pipeline_sla(fake.session, *sla)
    return db


def capture(
    db: Path,
    out: Path,
    width: int = 1440,
    height: int = 2200,
    pages: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Serves the dashboard on `db` and writes one PNG per page into `out`. Returns per page:
    seconds to render, exceptions shown. Raises if a page shows an exception or never renders."""
    for tool in ("chromium", "chromedriver"):
        if not shutil.which(tool):
            raise RuntimeError(
                f"{tool} is missing: apt-get install -y chromium chromium-driver"
            )
    out.mkdir(parents=True, exist_ok=True)
    st_port, driver_port = free_port(), free_port()
    env = {**os.environ, "ORCHESTRA_DASHBOARD_FAKESNOW_DIR": str(db)}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(STREAMLIT_DIR / "dashboard.py"),
            "--server.headless",
            "true",
            "--server.port",
            str(st_port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    driver = subprocess.Popen(
        ["chromedriver", f"--port={driver_port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{driver_port}"
    results: dict[str, Any] = {}
    session = None
    try:
        wait_for(
            lambda: urllib.request.urlopen(
                f"http://127.0.0.1:{st_port}/_stcore/health", timeout=2
            ).read(),
            "the Streamlit server",
            60,
        )
        wait_for(
            lambda: http("GET", f"{base}/status", timeout=2)["value"]["ready"],
            "chromedriver",
            30,
        )
        caps = {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": shutil.which("chromium"),
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    f"--window-size={width},{height}",
                    "--hide-scrollbars",
                ],
            },
        }
        session = http(
            "POST", f"{base}/session", {"capabilities": {"alwaysMatch": caps}}
        )["value"]["sessionId"]
        for name, path in (pages or PAGES).items():
            started = time.monotonic()
            http(
                "POST",
                f"{base}/session/{session}/url",
                {"url": f"http://127.0.0.1:{st_port}/{path}"},
            )

            def page_state() -> Any:
                return http(
                    "POST",
                    f"{base}/session/{session}/execute/sync",
                    {"script": STATE_JS, "args": []},
                )["value"]

            def rendered() -> Any:
                value = page_state()
                done = value and value[0] == "notRunning" and value[1] == "CONNECTED"
                return value if done and (value[4] or value[2]) else None

            wait_for(rendered, f"page {name} to render", 90, page_state)
            time.sleep(1.5)  # charts draw after the script run ends
            state = page_state()
            png = base64.b64decode(
                http("GET", f"{base}/session/{session}/screenshot")["value"]
            )
            (out / f"dashboard-{name}.png").write_bytes(png)
            results[name] = {
                "seconds": round(time.monotonic() - started, 1),
                "exceptions": state[3],
                "png_bytes": len(png),
            }
    finally:
        if session:
            try:
                http("DELETE", f"{base}/session/{session}", timeout=10)
            except OSError:
                pass
        for proc in (driver, server):
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    failed = {n: r["exceptions"] for n, r in results.items() if r["exceptions"]}
    if failed:
        raise RuntimeError(f"pages show exceptions: {failed}")
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out", type=Path, default=ROOT / "docs" / "img", help="where the PNGs go"
    )
    parser.add_argument(
        "--data",
        type=Path,
        help="fakesnow files of an earlier run (default: build new)",
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="orchestra-dashboard-"))
    try:
        db = args.data or build_data(work)
        results = capture(db, args.out)
    except RuntimeError as exc:
        print(f"dashboard-screenshots: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for name, r in results.items():
        print(
            f"{name}: {args.out / f'dashboard-{name}.png'} ({r['png_bytes']:,} bytes, rendered in {r['seconds']} s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
