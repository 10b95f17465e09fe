"""HTTP client for Orchestra's public API: timeouts, bounded retries, a request budget, no key leaks.

Retries only what can succeed on a second try (network errors, timeouts, 429, 5xx, a 2xx body
that is not the list envelope), with exponential backoff and jitter; a `Retry-After` (seconds or an
HTTP date) is waited as asked plus under a second of jitter; all within one total waiting budget
per load (docs/sync-algorithm.md, "Errors while reading"). 400/401/403/404/422 become actionable
configuration errors. The API key is sent only in the Authorization header and redacted from every
message.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import NewConnectionError

from .clock import ServerClock
from .errors import OrchestraError, config_error, redact

DEFAULT_API_URL = "https://app.getorchestra.io/api/engine/public"
USER_AGENT = "orchestra-data-app/1.0 (Snowflake Native App)"
SET_KEY_HINT = "CALL core.set_api_key('<key>')"


@dataclass
class ClientOptions:
    api_key: str
    api_url: str = DEFAULT_API_URL
    account_id: str | None = None
    timeout_s: float = 60.0
    requests_per_minute: int = 40
    retry_budget_s: float = 600.0
    max_attempts: int = 8
    base_delay_s: float = 1.0
    max_delay_s: float = 60.0
    max_retry_after_s: float = 300.0
    sleep: Callable[[float], None] | None = None  # None: the module's pause() at call time
    monotonic: Callable[[], float] = time.monotonic
    random: Callable[[], float] = random.random
    clock: ServerClock = field(default_factory=ServerClock)


@dataclass
class Counters:
    requests: int = 0
    retries: int = 0
    waited_s: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)


def pause(seconds: float) -> None:
    """How the client waits (backoff, Retry-After, request budget); one seam for simulated time."""
    time.sleep(seconds)


class RequestBudget:
    """At most `per_minute` requests in any 60 s, retries included, so a shared key keeps headroom."""

    def __init__(self, per_minute: int, sleep: Callable[[float], None], monotonic: Callable[[], float]):
        if per_minute < 1:
            raise config_error("requests_per_minute must be at least 1")
        self._per_minute = per_minute
        self._sleep = sleep
        self._monotonic = monotonic
        self._starts: deque[float] = deque()

    def acquire(self) -> float:
        waited = 0.0
        while True:
            now = self._monotonic()
            while self._starts and now - self._starts[0] >= 60.0:
                self._starts.popleft()
            if len(self._starts) < self._per_minute:
                self._starts.append(now)
                return waited
            pause = 60.0 - (now - self._starts[0])
            self._sleep(pause)
            waited += pause


def parse_retry_after(value: str | None, server_date: str | None, local_now: float) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date (compared with the
    response's own Date header when there is one, so client clock skew does not matter)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    # Delta-seconds are digits only (RFC 9110 10.2.3): no sign, exponent, "inf" or "nan".
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    try:
        at = parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    reference = local_now
    if server_date:
        try:
            reference = parsedate_to_datetime(server_date).timestamp()
        except (TypeError, ValueError, IndexError):
            pass
    return max(0.0, at - reference)


def _detail(response: requests.Response) -> str:
    """The API's own explanation: FastAPI `detail` (a string, or a list of {loc, msg})."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200].strip()
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list):
        parts = []
        for item in detail[:5]:
            if isinstance(item, dict):
                loc = ".".join(str(x) for x in item.get("loc", []) if x not in ("query", "body"))
                parts.append(f"{loc}: {item.get('msg', '')}".strip(": "))
        return "; ".join(parts)
    if detail is not None:
        return str(detail)[:300]
    return json.dumps(body)[:200]


def _envelope_problem(body: Any) -> str | None:
    """Why a 2xx body is not one page of a list endpoint, or None. Nothing is guessed: a page
    without `results` or a whole-number `total` cannot tell the engine whether a window is whole."""
    if not isinstance(body, dict) or not isinstance(body.get("results"), list):
        return 'no "results" array in the body'
    total = body.get("total")
    if not isinstance(total, int) or isinstance(total, bool) or total < 0:
        return 'no whole-number "total" in the body'
    for record in body["results"]:
        if not isinstance(record, dict) or not isinstance(record.get("id"), str):
            return 'a result without a string "id"'
    return None


def _looks_like_html(response: requests.Response) -> bool:
    head = response.content[:200].lstrip().lower()
    return "html" in response.headers.get("Content-Type", "").lower() or head.startswith((b"<!doctype", b"<html"))


def _refused(exc: Exception) -> bool:
    """The host could not be reached at all (refused, unknown name, egress blocked), as opposed to
    a connection that broke or timed out: retrying later will not help, a setting must change."""
    if isinstance(exc, requests.Timeout) or not isinstance(exc, requests.ConnectionError):
        return False
    reason = getattr(exc.args[0] if exc.args else None, "reason", None)
    return isinstance(reason, NewConnectionError)


class OrchestraClient:
    def __init__(self, options: ClientOptions) -> None:
        if not options.api_key or not options.api_key.strip():
            raise config_error(f"No Orchestra API key is set: run {SET_KEY_HINT} as app_admin.")
        self.options = options
        self.clock = options.clock
        self.counters = Counters()
        self._sleep = options.sleep or (lambda seconds: pause(seconds))
        self._budget = RequestBudget(options.requests_per_minute, self._sleep, options.monotonic)
        self._retry_waited = 0.0
        self._base = options.api_url.rstrip("/")
        self._host = urlsplit(self._base).netloc or self._base
        self._session = requests.Session()
        self._session.headers.update(
            {"Authorization": f"Bearer {options.api_key}", "Accept": "application/json", "User-Agent": USER_AGENT}
        )
        if options.account_id:
            self._session.headers["X-Orchestra-Account-Id"] = options.account_id

    def close(self) -> None:
        self._session.close()

    def get_page(self, path: str, params: dict[str, Any], what: str = "") -> dict[str, Any]:
        """One page of a list endpoint, validated: {"page", "pageSize", "total", "results": [...]}.
        A body that is not that envelope is retried like a 5xx; `pageSize` is 0 when not given."""
        body: dict[str, Any] = self._get(path, params, what, envelope=True)
        page_size = body.get("pageSize")
        valid = isinstance(page_size, int) and not isinstance(page_size, bool) and page_size > 0
        body["pageSize"] = page_size if valid else 0
        return body

    def get_json(self, path: str, params: dict[str, Any], what: str = "") -> Any:
        """Any JSON answer of the API (retried while it is not JSON), as parsed."""
        return self._get(path, params, what, envelope=False)

    def _get(self, path: str, params: dict[str, Any], what: str, envelope: bool) -> Any:
        url = self._base + path
        query = {k: v for k, v in params.items() if v is not None}
        label = f"GET {path}" + (f" ({what})" if what else "")
        attempt = 0
        while True:
            attempt += 1
            self.counters.waited_s += self._budget.acquire()
            self.counters.requests += 1
            try:
                response = self._session.get(url, params=query, timeout=self.options.timeout_s)
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError,
            ) as exc:
                if isinstance(exc, requests.Timeout):
                    reason = f"no answer within {self.options.timeout_s:g} s"
                else:
                    reason = f"network error ({type(exc).__name__})"
                self._retry_or_fail(attempt, None, label, reason, refused=_refused(exc))
                continue
            self.clock.observe(response.headers.get("Date"))
            status = response.status_code
            self.counters.statuses[status] = self.counters.statuses.get(status, 0) + 1
            if status == 429 or status >= 500:
                wait = parse_retry_after(
                    response.headers.get("Retry-After"), response.headers.get("Date"), time.time()
                )
                self._retry_or_fail(attempt, wait, label, f"HTTP {status}", status)
                continue
            if status >= 400:
                raise self._client_error(status, path, response)
            # A 2xx that is not the API's JSON: a proxy or gateway page, or a body cut short.
            if _looks_like_html(response):
                self._retry_or_fail(attempt, None, label, "an HTML page instead of JSON", html=True)
                continue
            try:
                body = response.json()
            except ValueError:
                size = len(response.content)
                problem = "an empty body" if size == 0 else f"invalid or truncated JSON ({size} bytes)"
                self._retry_or_fail(attempt, None, label, problem, malformed=True)
                continue
            problem = _envelope_problem(body) if envelope else None
            if problem is None:
                return body
            self._retry_or_fail(attempt, None, label, problem, malformed=True)

    def _retry_or_fail(
        self,
        attempt: int,
        retry_after: float | None,
        label: str,
        reason: str,
        status: int | None = None,
        refused: bool = False,
        malformed: bool = False,
        html: bool = False,
    ) -> None:
        o = self.options

        def gave_up(limit: str) -> OrchestraError:
            if malformed or html:
                return self._malformed(label, reason, limit, html)
            return self._gave_up(label, reason, status, limit, refused)

        if retry_after is not None and retry_after > o.max_retry_after_s:
            raise gave_up(f"it asked to wait {retry_after:.0f} s")
        if attempt >= o.max_attempts:
            raise gave_up(f"{attempt} attempts")
        if retry_after is not None:
            # The server's wait exactly, plus under a second of jitter so parallel loads spread out.
            wait = retry_after + o.random() * min(1.0, o.base_delay_s)
        else:
            ceiling = min(o.max_delay_s, o.base_delay_s * 2 ** (attempt - 1))
            wait = ceiling / 2 + ceiling / 2 * o.random()
        if self._retry_waited + wait > o.retry_budget_s:
            raise gave_up(f"the retry budget of {o.retry_budget_s:.0f} s")
        self._retry_waited += wait
        self.counters.retries += 1
        self.counters.waited_s += wait
        self._sleep(wait)

    def _gave_up(self, label: str, reason: str, status: int | None, limit: str, refused: bool) -> OrchestraError:
        """Retries ran out. A cause that passes (429, 5xx, timeouts, resets) is `transient`: the next
        load retries it. A host that cannot be reached at all is for the user to fix (`config`)."""
        kind = "transient"
        if status == 429:
            advice = (
                "Orchestra kept rate-limiting this key. Lower the requests_per_minute setting "
                "(CALL core.set_setting('requests_per_minute', '20')) if other tools share the key, "
                "or run the load again later; it resumes from its last completed window."
            )
        elif refused:
            kind = "config"
            advice = (
                f"Cannot connect to {self._host}: check that the app specification for it was approved "
                "(Snowsight: Apps > this app > Security) and the api_url setting, then run the load again."
            )
        elif status is None and reason.startswith("no answer"):
            msg = (
                f"Orchestra did not answer {label} within {self.options.timeout_s:g} s; gave up after {limit}. "
                "Raise the request_timeout_seconds setting or run the load again later."
            )
            return OrchestraError(redact(msg, self.options.api_key), kind, status)
        elif status is None and "network" in reason:
            advice = "The connection to Orchestra failed; run the load again. If it persists, check the network path."
        else:
            advice = "This is on Orchestra's side; run the load again later: it resumes from its last completed window."
        msg = f"{label} failed with {reason}; gave up after {limit}. {advice}"
        return OrchestraError(redact(msg, self.options.api_key), kind, status)

    def _malformed(self, label: str, reason: str, limit: str, html: bool) -> OrchestraError:
        """A 2xx that stayed unreadable. An HTML page every time means api_url is a website or a
        login/proxy page (`config`); a broken or incomplete body is worth another load (`transient`)."""
        if html:
            msg = (
                f"{self._host} answered {label} with an HTML page instead of Orchestra's JSON; gave up after "
                f"{limit}. The api_url setting points at a website or a proxy page: set it to {DEFAULT_API_URL} "
                "(CALL core.set_setting('api_url', '...'))."
            )
            return config_error(redact(msg, self.options.api_key))
        msg = (
            f"Orchestra returned a malformed response to {label}: {reason}; gave up after {limit}. "
            "Run the load again: it resumes from its last completed window."
        )
        return OrchestraError(redact(msg, self.options.api_key), "transient")

    def _client_error(self, status: int, path: str, response: requests.Response) -> OrchestraError:
        detail = redact(_detail(response), self.options.api_key)
        if status == 401:
            msg = (
                "Orchestra rejected the API key (401). Create a key in Orchestra under Settings > API key "
                f"and run {SET_KEY_HINT} as app_admin."
            )
        elif status == 403:
            msg = (
                "Orchestra refused access (403): the metadata API needs an enterprise workspace and may be "
                f"limited to allowed IP ranges. Ask Orchestra to enable API access for this workspace. ({detail})"
            )
        elif status == 404:
            msg = (
                f"Orchestra has no endpoint {path} at {self._host} (404): check the api_url setting "
                f"(default {DEFAULT_API_URL})."
            )
        elif status == 400 and "account" in detail.lower():
            msg = (
                f"Orchestra needs to know which account to read (400: {detail}): "
                "run CALL core.set_setting('account_id', '<account uuid>')."
            )
        else:
            msg = (
                f"Orchestra rejected the request to {path} ({status}: {detail}). "
                "Check the settings in config (pipeline_ids, environments, page_size)."
            )
        return config_error(redact(msg, self.options.api_key), status)
