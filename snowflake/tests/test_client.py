"""The Python HTTP client against the simulator (issue test 1): pagination, windows, retries with
Retry-After, timeouts, error messages, and the API key never in any output."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from orchestra_app.client import ClientOptions, OrchestraClient, RequestBudget, parse_retry_after
from orchestra_app.errors import OrchestraError
from orchestra_app.udfs import fetch_page
from support.simulator import CANARY_KEY, Simulator

START = "2026-03-02T12:00:00Z"


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(
        "--scenario", "calm", "--clock", "manual", "--start", START, "--seed", "5", "--records", "1500",
        "--hang-ms", "2000",
    ) as s:
        yield s


@pytest.fixture(autouse=True)
def clean(sim: Simulator) -> None:
    sim.configure({"clearInjections": True, "retryAfter": "seconds"})
    sim.control("POST", "/_sim/reset-stats")


class Waits:
    """Records the client's sleeps instead of sleeping, so retry timing is asserted exactly."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def client(sim: Simulator, waits: Waits | None = None, **kw: Any) -> OrchestraClient:
    options = ClientOptions(api_key=sim.api_key, api_url=sim.base_url, requests_per_minute=100000,
                            sleep=waits or Waits(), random=lambda: 0.5, **kw)
    return OrchestraClient(options)


def window(days: int = 7) -> dict[str, str]:
    end = datetime(2026, 3, 2, 12, tzinfo=UTC)
    return {"time_from": (end - timedelta(days=days) + timedelta(minutes=10)).isoformat(), "time_to": end.isoformat()}


def requests_log(sim: Simulator) -> list[dict[str, Any]]:
    return sim.control("GET", "/_sim/requests?limit=1000")


def test_a_page_carries_the_api_envelope_and_the_clock_follows_the_server_date(sim: Simulator) -> None:
    c = client(sim)
    page = c.get_page("/task_runs", {"page": 1, "page_size": 5, **window()})
    assert page["page"] == 1 and page["pageSize"] == 5 and len(page["results"]) == 5 and page["total"] > 5
    # The simulator lives in March 2026 while this machine does not: "now" must be the server's.
    assert abs((c.clock.now() - datetime(2026, 3, 2, 12, tzinfo=UTC)).total_seconds()) < 120


def test_the_readme_functions_send_page_size_capped_at_100_and_always_a_window(sim: Simulator) -> None:
    options = ClientOptions(api_key=sim.api_key, api_url=sim.base_url)
    body = fetch_page("task_runs", 2, 500, options=options)
    assert body["pageSize"] == 100 and body["page"] == 2
    sent = requests_log(sim)[-1]["query"]
    assert sent["page_size"] == "100" and "per_page" not in sent
    assert sent["time_from"] and sent["time_to"]
    assert datetime.fromisoformat(sent["time_to"]) - datetime.fromisoformat(sent["time_from"]) <= timedelta(days=7)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0, 10), "page must be a whole number from 1"),
        ((1, 0), "per_page must be a whole number from 1 to 100"),
        ((1, 10, datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)), "at most 7 days"),
        ((1, 10, datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)), "must be before time_to"),
    ],
)
def test_bad_function_arguments_raise_a_message_naming_the_argument(
    sim: Simulator, args: tuple[Any, ...], message: str
) -> None:
    with pytest.raises(OrchestraError, match=message):
        fetch_page("pipeline_runs", *args, options=ClientOptions(api_key=sim.api_key, api_url=sim.base_url))


def test_429_is_retried_after_the_seconds_in_retry_after(sim: Simulator) -> None:
    sim.configure({"inject": [{"fault": "rateLimited", "count": 2}]})
    waits = Waits()
    page = client(sim, waits).get_page("/operations", {"page": 1, "page_size": 10, **window()})
    assert len(page["results"]) == 10
    statuses = [r["status"] for r in requests_log(sim)]
    assert statuses == [429, 429, 200]
    assert len(waits.calls) == 2 and all(w >= 1.0 for w in waits.calls), waits.calls


def test_429_is_retried_after_an_http_date_in_retry_after_measured_on_the_server_clock(sim: Simulator) -> None:
    sim.configure({"retryAfter": "date", "inject": [{"fault": "rateLimited", "count": 1}]})
    waits = Waits()
    client(sim, waits).get_page("/operations", {"page": 1, "page_size": 10, **window()})
    # The date is ~1-2 s after the server's Date header; the local clock (years away) must not matter.
    assert len(waits.calls) == 1 and 1.0 <= waits.calls[0] <= 4.0, waits.calls


def test_server_errors_resets_and_truncated_bodies_are_retried_until_a_good_page(sim: Simulator) -> None:
    sim.configure({"inject": [
        {"fault": "serverError", "count": 1, "status": 502},
        {"fault": "serverError", "count": 1, "status": 503},
        {"fault": "reset", "count": 1},
        {"fault": "truncated", "count": 1},
    ]})
    c = client(sim)
    page = c.get_page("/pipeline_runs", {"page": 1, "page_size": 20, **window()})
    assert len(page["results"]) == 20
    assert c.counters.retries == 4 and c.counters.requests == 5


def test_a_hanging_request_times_out_and_is_retried(sim: Simulator) -> None:
    sim.configure({"inject": [{"fault": "hang", "count": 1}]})
    c = client(sim, timeout_s=0.5)
    page = c.get_page("/pipeline_runs", {"page": 1, "page_size": 5, **window()})
    assert len(page["results"]) == 5 and c.counters.retries == 1


def test_retries_stop_at_the_retry_budget_with_a_message_saying_what_to_do(sim: Simulator) -> None:
    sim.configure({"inject": [{"fault": "serverError", "count": 50, "status": 500}]})
    waits = Waits()
    with pytest.raises(OrchestraError) as info:
        client(sim, waits, retry_budget_s=10).get_page("/task_runs", {"page": 1, "page_size": 5, **window()})
    message = str(info.value)
    assert "HTTP 500" in message and "retry budget of 10 s" in message and "run the load again" in message
    assert sum(waits.calls) <= 10


def test_a_rejected_key_says_how_to_set_a_new_one_and_never_shows_either_key(sim: Simulator) -> None:
    wrong = "wrong-KEY-5d1e0c2b9a8f7e6d"
    c = OrchestraClient(ClientOptions(api_key=wrong, api_url=sim.base_url, sleep=Waits()))
    with pytest.raises(OrchestraError) as info:
        c.get_page("/pipeline_runs", {"page": 1, "page_size": 1, **window()})
    text = f"{info.value} {info.value!r} {info.value.args}"
    assert "(401)" in text and "core.set_api_key" in text and info.value.kind == "config"
    assert wrong not in text and CANARY_KEY not in text


def test_an_invalid_parameter_reports_the_apis_validation_detail(sim: Simulator) -> None:
    with pytest.raises(OrchestraError) as info:
        client(sim).get_page("/task_runs", {"page": 1, "page_size": 200, **window()})
    assert "422" in str(info.value) and "page_size" in str(info.value)


def test_a_non_enterprise_workspace_and_a_multi_account_token_get_actionable_messages() -> None:
    with Simulator("--clock", "manual", "--non-enterprise") as s:
        with pytest.raises(OrchestraError, match=r"403.*enterprise"):
            client(s).get_page("/task_runs", {"page": 1, "page_size": 1, **window()})
    with Simulator("--clock", "manual", "--multi-account") as s:
        with pytest.raises(OrchestraError, match=r"set_setting\('account_id'"):
            client(s).get_page("/task_runs", {"page": 1, "page_size": 1, **window()})


def test_the_request_budget_spreads_requests_over_the_minute() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    budget = RequestBudget(3, sleep, lambda: now[0])
    for _ in range(3):
        budget.acquire()
        now[0] += 1.0
    assert slept == []
    budget.acquire()
    assert slept == [pytest.approx(57.0)]


def test_retry_after_parses_seconds_and_http_dates_against_the_servers_date() -> None:
    assert parse_retry_after("7", None, 0) == 7
    server = "Mon, 02 Mar 2026 12:00:00 GMT"
    assert parse_retry_after("Mon, 02 Mar 2026 12:00:05 GMT", server, 0) == 5
    assert parse_retry_after("soon", server, 0) is None
    assert parse_retry_after(None, server, 0) is None
