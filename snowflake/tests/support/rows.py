"""Comparing table rows with stream records: timestamps as instants, VARIANT as JSON."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from orchestra_app.normalize import normalize, parse_instant
from orchestra_app.schema import STREAMS


def columns(stream: str) -> list[tuple[str, str, str]]:
    return [tuple(c) for c in STREAMS[stream]["columns"]]  # type: ignore[misc]


def select_list(stream: str) -> str:
    """Every schema column plus _extra_fields, in table order, quoted as the generator quotes."""
    names = []
    for name, _, _ in columns(stream):
        names.append(f'"{name.upper()}"' if name == "commit" else name)
    return ", ".join(names + ["_extra_fields"])


def record_of(raw: dict[str, Any], stream: str) -> dict[str, Any]:
    return normalize(raw, tuple(c[0] for c in columns(stream)))


def _without_nulls(value: Any) -> Any:
    """Nested JSON with null-valued keys dropped: the API may omit optional fields or send null
    (docs/orchestra-api.md, unknown 5), nested objects included, and both mean the same."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def comparable(value: Any, kind: str, lenient: bool = True) -> Any:
    """One representation for a record value and the column value it became."""
    if value is None:
        return None
    if kind == "timestamp":
        moment = value if isinstance(value, datetime) else parse_instant(value)
        return None if moment is None else moment.timestamp()
    if kind == "variant":
        parsed = json.loads(value) if isinstance(value, str) else value
        if not lenient:
            return None if parsed is None else json.dumps(parsed, sort_keys=True)
        return None if parsed is None else json.dumps(_without_nulls(parsed), sort_keys=True)
    if kind == "integer":
        return int(value)
    if kind == "number":
        return float(value) if isinstance(value, (int, float, Decimal)) else value
    return value


def differences(stream: str, record: dict[str, Any], row: tuple[Any, ...], lenient: bool = True) -> list[str]:
    """Field-by-field differences between a stream record and its table row (select_list order).
    `lenient` (comparisons with the simulator's ground truth, which always has every nested key)
    treats omitted and null nested keys alike, as the API may send either; strict compares JSON
    exactly (the parity test: both runtimes read the same pages)."""
    out = []
    known = set()
    for i, (name, kind, _) in enumerate(columns(stream)):
        known.add(name)
        a, b = comparable(record.get(name), kind, lenient), comparable(row[i], kind, lenient)
        if a != b:
            out.append(f"{record.get('id')}.{name}: record {record.get(name)!r} != row {row[i]!r}")
    extras = {k: v for k, v in record.items() if k not in known}
    stored = comparable(row[len(known)], "variant", lenient=lenient)
    if comparable(extras or None, "variant", lenient=lenient) != stored:
        out.append(f"{record.get('id')}._extra_fields: record extras {extras!r} != row {row[len(known)]!r}")
    return out
