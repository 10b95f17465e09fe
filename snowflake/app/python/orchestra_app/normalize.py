"""API records (camelCase) to stream records (snake_case), exactly as the Airbyte source does.

Top-level keys only: `_` before each upper-case letter, then lower-case; nested values untouched.
Every schema property is present (None when the API omitted it); unknown fields are kept apart as
extras so they reach the table's `_extra_fields` column instead of being dropped.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

_UPPER = re.compile(r"[A-Z]")
_ISO = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9})\d*)?)?"
    r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)
_key_cache: dict[str, str] = {}


def snake_case(key: str) -> str:
    cached = _key_cache.get(key)
    if cached is None:
        cached = _UPPER.sub(lambda m: "_" + m.group(0).lower(), key)
        _key_cache[key] = cached
    return cached


def normalize(raw: dict[str, Any], properties: tuple[str, ...]) -> dict[str, Any]:
    """The stream record: snake_case keys, every schema property present, extras kept."""
    record = {snake_case(k): v for k, v in raw.items()}
    for prop in properties:
        record.setdefault(prop, None)
    return record


def split_extras(record: dict[str, Any], properties: frozenset[str]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    known = {k: v for k, v in record.items() if k in properties}
    extra = {k: v for k, v in record.items() if k not in properties}
    return known, (extra or None)


def canonical_timestamp(value: Any) -> str | None:
    """An ISO 8601 timestamp rewritten as YYYY-MM-DDTHH:MM:SS.fff+HH:MM (offset kept, fraction
    always present), the one shape the MERGE parses; None when it is not a timestamp. A value
    without an offset is taken as UTC, which is what the API means."""
    if not isinstance(value, str):
        return None
    m = _ISO.match(value.strip())
    if not m:
        return None
    date, hh, mi, ss, frac, tz = m.groups()
    ss = ss or "00"
    frac = frac or "0"
    if not tz or tz in ("Z", "z"):
        offset = "+00:00"
    else:
        digits = tz[1:].replace(":", "")
        offset = f"{tz[0]}{digits[:2]}:{(digits[2:] or '00')}"
    try:
        datetime.strptime(f"{date}T{hh}:{mi}:{ss}", "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return None
    return f"{date}T{hh}:{mi}:{ss}.{frac}{offset}"


def parse_instant(value: Any) -> datetime | None:
    """A timestamp string as an aware UTC datetime (microsecond precision), or None."""
    text = canonical_timestamp(value)
    if text is None:
        return None
    head, rest = text.split(".", 1)
    frac, sign, offset = rest[:-6], rest[-6], rest[-5:]
    micro = (frac + "000000")[:6]
    parsed = datetime.fromisoformat(f"{head}.{micro}{sign}{offset}")
    return parsed.astimezone(UTC)


def iso_z(moment: datetime) -> str:
    """The wire and state format for instants: UTC with milliseconds, like JavaScript's toISOString."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
