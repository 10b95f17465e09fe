"""The app's settings (config.settings), the same options as the Airbyte source's spec.

Stored as text rows (name, value); parsed and validated here so a bad value is reported once,
naming the setting, when it is set and again when a load reads it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .client import DEFAULT_API_URL, ClientOptions
from .errors import config_error
from .normalize import parse_instant
from .schema import SPEC_SETTINGS

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _int(lo: int, hi: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise ValueError(f"a whole number from {lo} to {hi}") from None
        if not lo <= value <= hi:
            raise ValueError(f"a whole number from {lo} to {hi}")
        return value

    return parse


def _url(text: str) -> str:
    if not re.match(r"^https?://[^\s/]+", text.strip()):
        raise ValueError(f"an http(s) URL such as {DEFAULT_API_URL}")
    return text.strip().rstrip("/")


def _uuid(text: str) -> str | None:
    if not text.strip():
        return None
    if not _UUID.match(text.strip()):
        raise ValueError("a UUID such as 3f1c2a9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b, or empty")
    return text.strip()


def _date(text: str) -> datetime | None:
    if not text.strip():
        return None
    parsed = parse_instant(text)
    if parsed is None:
        raise ValueError("an ISO 8601 time such as 2026-01-01T00:00:00Z, or empty")
    return parsed


def _uuid_list(text: str) -> list[str]:
    """The API filters by ids (UUIDs, per the OpenAPI); a name here would silently match nothing."""
    items = [item.strip() for item in text.split(",") if item.strip()]
    bad = [item for item in items if not _UUID.match(item)]
    if bad:
        raise ValueError(f"a comma list of UUIDs such as 3f1c2a9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b (not {bad[0]!r})")
    return items


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "yes", "1"):
        return True
    if lowered in ("false", "no", "0", ""):
        return False
    raise ValueError("true or false")


def _from_spec(name: str, parse: Callable[[str], Any] | None, doc: str) -> tuple[str, Callable[[str], Any], str]:
    """(default, parser, what it does), the default and any range from the connector's spec
    (resources/spec.json through the generated schema.SPEC_SETTINGS), so both runtimes agree."""
    spec = SPEC_SETTINGS[name]
    if parse is None:  # an integer option: a whole number within the spec's range
        parse = _int(int(spec["minimum"]), int(spec["maximum"]))
    return str(spec["default"]), parse, doc


SETTINGS: dict[str, tuple[str, Callable[[str], Any], str]] = {
    name: _from_spec(name, parse, doc)
    for name, parse, doc in (
        ("api_url", _url, "Orchestra's public API; the network rule only allows app.getorchestra.io:443"),
        ("account_id", _uuid, "only for OAuth tokens covering several accounts: sent as X-Orchestra-Account-Id"),
        ("start_date", _date, "first load reads from here (clamped to the ~7 days the API keeps)"),
        ("lookback_hours", None, "each load re-reads this many hours before the saved cursor"),
        ("window_hours", None, "length of one time window (one MERGE each)"),
        ("page_size", None, "records per request (the API serves at most 100)"),
        ("requests_per_minute", None, "client-side request budget, retries included"),
        ("request_timeout_seconds", None, "a request that takes longer is retried"),
        ("retry_budget_seconds", None, "total time one load may wait on retries"),
        ("pipeline_ids", _uuid_list, "comma list of pipeline ids: only these pipelines (pipeline and task runs)"),
        ("environments", _uuid_list, "comma list of environment ids: only these environments (pipeline runs)"),
        ("include_superseded", _bool, "also read earlier attempts of retried task runs"),
    )
}


def parse_setting(name: str, value: str) -> Any:
    key = name.strip().lower()
    if key not in SETTINGS:
        raise config_error(f"Unknown setting {name!r}: use one of {', '.join(SETTINGS)}.")
    try:
        return SETTINGS[key][1](value if value is not None else "")
    except ValueError as exc:
        raise config_error(f"Setting {key} = {value!r} is not valid: expected {exc}.") from None


@dataclass
class Settings:
    api_url: str
    account_id: str | None
    start_date: datetime | None
    lookback_window: timedelta
    window: timedelta
    page_size: int
    requests_per_minute: int
    request_timeout_s: float
    retry_budget_s: float
    pipeline_ids: list[str]
    environments: list[str]
    include_superseded: bool

    @classmethod
    def from_rows(cls, rows: dict[str, str]) -> Settings:
        v = {name: parse_setting(name, rows.get(name, default)) for name, (default, _, _) in SETTINGS.items()}
        return cls(
            api_url=v["api_url"],
            account_id=v["account_id"],
            start_date=v["start_date"],
            lookback_window=timedelta(hours=v["lookback_hours"]),
            window=timedelta(hours=v["window_hours"]),
            page_size=v["page_size"],
            requests_per_minute=v["requests_per_minute"],
            request_timeout_s=float(v["request_timeout_seconds"]),
            retry_budget_s=float(v["retry_budget_seconds"]),
            pipeline_ids=v["pipeline_ids"],
            environments=v["environments"],
            include_superseded=v["include_superseded"],
        )

    def client_options(self, api_key: str, **overrides: Any) -> ClientOptions:
        options = ClientOptions(
            api_key=api_key,
            api_url=self.api_url,
            account_id=self.account_id,
            timeout_s=self.request_timeout_s,
            requests_per_minute=self.requests_per_minute,
            retry_budget_s=self.retry_budget_s,
        )
        for k, val in overrides.items():
            setattr(options, k, val)
        return options

    def filters(self, stream: dict[str, Any]) -> dict[str, Any]:
        """The stream's API filters from the settings (registry: setting name -> query parameter)."""
        values: dict[str, Any] = {
            "pipeline_ids": ",".join(self.pipeline_ids) or None,
            "environments": ",".join(self.environments) or None,
            "include_superseded": "true" if self.include_superseded else None,
        }
        out = {}
        for setting, param in stream["filters"].items():
            if values.get(setting) is not None:
                out[param] = values[setting]
        return out
