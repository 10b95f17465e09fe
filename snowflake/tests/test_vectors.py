"""The shared algorithm vectors (test/vectors/) against the Snowflake app's engine; the Airbyte
source's engine runs the same files in test/source/vectors.test.ts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from support.vector_harness import ScriptedApi, expected, load_vectors, project, run_case

CASES = load_vectors()


@pytest.fixture(scope="module")
def api() -> Iterator[ScriptedApi]:
    server = ScriptedApi()
    yield server
    server.close()


def test_every_vector_file_is_found() -> None:
    assert {c["file"] for c in CASES} == {
        "dedupe.json", "http.json", "pages.json", "plan.json", "refetch.json", "windows.json"
    }


@pytest.mark.parametrize("case", CASES, ids=[f"{c['file'][:-5]}: {c['name']}" for c in CASES])
def test_vector(case: dict[str, Any], api: ScriptedApi) -> None:
    assert project(case, run_case(case, api)) == expected(case)
