"""Tasks: one scheduled run of a task's body, looked up by name in the version installed now, and
suspension after Snowflake's default number of consecutive failures."""

from __future__ import annotations

import re
from typing import Any

from ..fake_snowflake import FakeSession, Runtime
from .model import Error

# Snowflake's default for SUSPEND_TASK_AFTER_NUM_FAILURES.
SUSPEND_AFTER_FAILURES = 10


class Tasks:
    """The task runs of an installed app (a part of InstalledApp)."""

    runtime: Runtime
    session: FakeSession
    task_history: list[dict[str, Any]]

    def fire_task(self, task: str = "config.load_all_task") -> dict[str, Any]:
        """One scheduled run: the task's body runs as the app. The target is looked up now, in
        the version installed now; after SUSPEND_AFTER_FAILURES failures in a row it suspends."""
        spec = self.runtime.tasks[task]
        if spec["state"] != "started":
            raise Error(f"Task {task.upper()} is suspended: nothing runs")
        body = re.search(r"(?is)\bAS\s+(CALL\s+.*)$", spec["sql"]).group(1)
        run: dict[str, Any] = {"task": task, "body": body}
        try:
            run["result"] = self.session.execute(body)[0][0]
            run["state"] = "SUCCEEDED"
            spec["failures"] = 0
        except Exception as exc:  # noqa: BLE001 - a task run records any failure
            run["state"], run["error"] = "FAILED", str(exc)
            spec["failures"] = spec.get("failures", 0) + 1
            if spec["failures"] >= SUSPEND_AFTER_FAILURES:
                spec["state"] = "suspended"
        self.task_history.append(run)
        return run
