"""The project's Orchestra simulator package, started as a subprocess (`node simulator/lib/cli.js`)."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
CLI = ROOT / "simulator" / "lib" / "cli.js"
CANARY_KEY = "canary-KEY-0f3c9a1e77d24b6f"


class Simulator:
    def __init__(self, *args: str, api_key: str = CANARY_KEY) -> None:
        if not CLI.exists():
            raise RuntimeError(f"{CLI} is missing: run `npm run build` first (scripts/test-all.sh does).")
        self.api_key = api_key
        self.proc = subprocess.Popen(
            ["node", str(CLI), "--port", "0", "--api-key", api_key, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline().strip()
        if not first.startswith("listening on "):
            self.close()
            err = self.proc.stderr.read() if self.proc.stderr else ""
            raise RuntimeError(f"simulator did not start: {first!r} {err}")
        self.base_url = first.removeprefix("listening on ")
        self.root = self.base_url.split("/api/")[0]

    def control(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.root + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def now(self) -> str:
        return self.control("GET", "/_sim/now")["now"]

    def advance(self, ms: int) -> str:
        return self.control("POST", f"/_sim/advance?ms={int(ms)}")["now"]

    def truth(self, stream: str, include_superseded: bool = False) -> list[dict[str, Any]]:
        """Every record's latest version; task runs as the API lists them by default (earlier
        attempts of retried tasks hidden) unless include_superseded."""
        flag = "true" if include_superseded else "false"
        return self.control("GET", f"/_sim/truth/{stream}?include_superseded={flag}")

    def stats(self) -> Any:
        return self.control("GET", "/_sim/stats")

    def configure(self, overrides: dict[str, Any]) -> Any:
        return self.control("POST", "/_sim/config", overrides)

    def close(self) -> str:
        """Stops the simulator; returns what it wrote on stderr (for key-leak checks)."""
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            _, err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return err or ""

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
