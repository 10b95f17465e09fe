"""docs/adding-a-stream.md, followed in a scratch copy of the repository: a new stream over a path
the simulator serves gets a working stream in both runtimes, from data alone.

The Airbyte half runs the scratch copy's own build (`bin/main discover` and `read`). The Snowflake
half runs in a child process whose only `orchestra_app` is the scratch copy's generated zip (what
the setup script IMPORTS), installed on the stand-in account from the scratch copy's app directory.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DOC = ROOT / "docs" / "adding-a-stream.md"
NEW = "pipeline_run_statuses"
FIELDS = ("id", "pipeline_id", "pipeline_name", "run_status", "created_at", "updated_at", "completed_at")
# What the scratch copy needs: the connector's sources and build files, the resources, the generator
# and every file it writes or fills in.
COPIED = ("package.json", "tsconfig.json", "tsconfig.build.json", "bin", "src", "resources",
          "scripts/generate.py", "docs/streams.md", "snowflake/app")
# Each numbered step of the document, in order, and a phrase it must contain: if the steps change,
# this test has to change with them.
STEPS = (
    "simulator",
    "resources/schemas/<name>.json",
    "resources/streams.json",
    "python3 scripts/generate.py",
    "npm run build",
    "bin/main discover",
    "core.load_<name>",
    "README.md",
)


def doc_steps() -> list[str]:
    """The numbered list of the document, one string per step."""
    steps: list[str] = []
    for line in DOC.read_text().splitlines():
        if m := re.match(r"^(\d+)\. (.*)$", line):
            assert int(m.group(1)) == len(steps) + 1, f"step {m.group(1)} is out of order"
            steps.append(m.group(2))
        elif steps and line.startswith("   "):
            steps[-1] += " " + line.strip()
    return steps


def scratch_copy(tmp: Path) -> Path:
    root = tmp / "repo"
    for part in COPIED:
        source, target = ROOT / part, root / part
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "lib"))
        else:
            shutil.copy(source, target)
    (root / "node_modules").symlink_to(ROOT / "node_modules")
    return root


def run(root: Path, *args: str, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, cwd=root, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stderr[-3000:]}\n{done.stdout[-2000:]}"
    return done


def messages(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def test_the_document_lists_the_steps_this_test_follows() -> None:
    steps = doc_steps()
    assert len(steps) == len(STEPS), f"the document has {len(steps)} steps, this test follows {len(STEPS)}"
    for number, (text, phrase) in enumerate(zip(steps, STEPS, strict=True), start=1):
        assert phrase in text, f"step {number} should mention {phrase!r}: {text[:120]!r}"


def test_a_stream_added_by_following_the_document_works_in_both_runtimes(tmp_path: Path) -> None:
    from support.simulator import Simulator

    root = scratch_copy(tmp_path)
    assert run(root, sys.executable, "scripts/generate.py", "--check").returncode == 0

    # Step 1: /pipeline_runs is served by the simulator, so no new endpoint is needed.
    # Step 2: the schema, a narrow view of a pipeline run.
    runs = json.loads((root / "resources/schemas/pipeline_runs.json").read_text())
    schema = {
        "$schema": runs["$schema"],
        "title": NEW,
        "description": "The status of each pipeline run.",
        "type": "object",
        "additionalProperties": True,
        "required": ["id", "updated_at"],
        "properties": {name: runs["properties"][name] for name in FIELDS},
    }
    (root / f"resources/schemas/{NEW}.json").write_text(json.dumps(schema, indent=2) + "\n")
    # Step 3: the registry entry.
    registry_path = root / "resources/streams.json"
    registry = json.loads(registry_path.read_text())
    registry["streams"].append({
        "name": NEW,
        "path": "/pipeline_runs",
        "primary_key": "id",
        "cursor_field": "updated_at",
        "status_field": "run_status",
        "open_statuses": ["CREATED", "RUNNING", "CANCELLING"],
        "id_filter": "pipeline_run_ids",
        "filters": {"pipeline_ids": "pipeline_ids", "environments": "environments"},
    })
    registry_path.write_text(json.dumps(registry, indent=2) + "\n")
    # Step 4: generate; the copy is stale until then.
    stale = subprocess.run([sys.executable, "scripts/generate.py", "--check"], cwd=root, capture_output=True,
                           text=True, timeout=60)
    assert stale.returncode == 1 and "snowflake/app/setup_script.sql" in stale.stderr, stale.stderr
    run(root, sys.executable, "scripts/generate.py")
    run(root, sys.executable, "scripts/generate.py", "--check")
    setup = (root / "snowflake/app/setup_script.sql").read_text()
    assert f"core.load_{NEW}()" in setup and f"GRANT SELECT ON TABLE public.{NEW} " in setup
    # Step 5: build the connector (the simulator is the main tree's, already built).
    run(root, "npm", "run", "-s", "build:connector", timeout=180)

    # Three days of history: all of it inside the 7 days the API serves, so the truth is what a sync reads.
    with Simulator("--scenario", "calm", "--clock", "manual", "--seed", "7", "--records", "300",
                   "--history-days", "3") as sim:
        truth = {r["id"] for r in sim.truth("pipeline_runs")}
        assert len(truth) > 10
        config = tmp_path / "config.json"
        config.write_text(json.dumps({"api_key": sim.api_key, "api_url": sim.base_url, "requests_per_minute": 100000}))
        # Step 6: discover lists it; read emits exactly the simulator's pipeline runs, then a state.
        catalog = next(m["catalog"] for m in messages(run(root, "bin/main", "discover", "--config", str(config)).stdout)
                       if m["type"] == "CATALOG")
        listed = {s["name"]: s for s in catalog["streams"]}
        assert set(listed) == {"pipeline_runs", "task_runs", "operations", NEW}, f"discover lists {sorted(listed)}"
        assert listed[NEW]["json_schema"]["properties"].keys() == set(FIELDS)
        configured = tmp_path / "catalog.json"
        configured.write_text(json.dumps({"streams": [{
            "stream": listed[NEW], "sync_mode": "incremental", "destination_sync_mode": "append_dedup",
            "cursor_field": ["updated_at"], "primary_key": [["id"]],
        }]}))
        read = messages(run(root, "bin/main", "read", "--config", str(config), "--catalog", str(configured)).stdout)
        records = [m["record"] for m in read if m["type"] == "RECORD"]
        assert {r["stream"] for r in records} == {NEW}
        assert {r["data"]["id"] for r in records} == truth
        states = [m["state"] for m in read if m["type"] == "STATE"]
        assert states and states[-1]["stream"]["stream_descriptor"]["name"] == NEW

        # Step 7: the Snowflake app from the scratch copy loads it into its table.
        child = subprocess.run(
            [sys.executable, __file__, str(root / "snowflake/app"), sim.base_url],
            capture_output=True, text=True, timeout=180,
            env={**os.environ, "ORCHESTRA_TEST_KEY": sim.api_key,
                 "PYTHONPATH": os.pathsep.join([str(root / "snowflake/app/python/orchestra_app.zip"), str(HERE)])},
        )
        assert child.returncode == 0, child.stderr[-3000:]
        loaded = json.loads(child.stdout.strip().splitlines()[-1])
    assert loaded["module"].endswith(os.path.join("orchestra_app.zip", "orchestra_app", "__init__.py"))
    assert set(loaded["ids"]) == truth
    assert loaded["status"] == [NEW, "SUCCEEDED", len(truth)]
    assert loaded["extra_fields"], "fields the schema leaves out are kept in _extra_fields"


def load_in_stand_in(app_dir: Path, api_url: str) -> dict[str, Any]:
    """The child process: install the scratch app on the stand-in account and load the new stream."""
    import orchestra_app
    from support.account import Account

    key = os.environ["ORCHESTRA_TEST_KEY"]
    account = Account()
    try:
        app = account.install("ORCHESTRA_DATA_APP", version_dir=app_dir)
        admin = app.as_role("app_admin")
        account.approve(app.name, "orchestra_api")
        admin.execute(f"CALL core.set_api_key('{key}')")
        admin.execute(f"CALL core.set_setting('api_url', '{api_url}')")
        admin.execute("CALL core.set_setting('requests_per_minute', '100000')")
        admin.execute(f"CALL core.load_{NEW}()")
        viewer = app.as_role("app_viewer")
        ids = [r[0] for r in viewer.execute(f"SELECT id FROM public.{NEW}")]
        extra = viewer.execute(f"SELECT COUNT(*) FROM public.{NEW} WHERE _extra_fields:env_name IS NOT NULL")
        status = viewer.execute(f"SELECT stream, last_status, row_count FROM public.sync_status WHERE stream = '{NEW}'")
        return {
            "module": orchestra_app.__file__,
            "ids": ids,
            "extra_fields": extra[0][0] == len(ids),
            "status": list(status[0]) if status else None,
        }
    finally:
        account.close()


if __name__ == "__main__":
    print(json.dumps(load_in_stand_in(Path(sys.argv[1]), sys.argv[2]), default=str))
