"""Stored procedure handlers: each takes the Snowpark `session` first and stays thin.

The API key is read from the app-owned secret bound as SECRET_NAME (the setup script creates every
procedure and function that reaches the network with SECRETS = ('orchestra_api_key' =
config.orchestra_api_key)). It is never returned, logged or put in an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from . import egress
from .client import OrchestraClient
from .errors import OrchestraError, config_error
from .loader import ALL_STREAMS, load, probe
from .settings import SETTINGS, Settings, parse_setting
from .store import Store

SECRET_NAME = "orchestra_api_key"
SECRET_OBJECT = "config.orchestra_api_key"
UNSET_KEY = "unset"
TASK = "config.load_all_task"
# Orchestra keys are opaque tokens; anything outside this set is a paste error (quotes, spaces,
# newlines), and refusing it also keeps the ALTER SECRET literal below injection-proof.
_KEY_CHARS = re.compile(r"^[A-Za-z0-9._~+/=:-]{8,512}$")
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*/,\-?LW#]+$")
_TIMEZONE = re.compile(r"^[A-Za-z_]+(/[A-Za-z0-9_+\-]+)*$")


def api_key() -> str:
    """The key from the secret bound to this procedure or function."""
    try:
        import _snowflake  # type: ignore[import-not-found]  # only inside Snowflake
    except ImportError:
        raise OrchestraError("The Orchestra API key is only readable inside Snowflake.") from None
    try:
        key = _snowflake.get_generic_secret_string(SECRET_NAME)
    except Exception:  # noqa: BLE001 - the runtime's error text is not useful to the user
        key = None
    if not key or key == UNSET_KEY:
        raise config_error("No Orchestra API key is set: run CALL core.set_api_key('<key>') as app_admin.")
    return key


def _settings(store: Store) -> Settings:
    return Settings.from_rows(store.read_settings())


def _client(store: Store) -> tuple[OrchestraClient, Settings]:
    settings = _settings(store)
    return OrchestraClient(settings.client_options(api_key())), settings


def _load(session: Any, streams: tuple[str, ...], procedure: str) -> dict[str, Any]:
    store = Store(session)
    client, settings = _client(store)
    try:
        return load(store, client, settings, streams, procedure)
    finally:
        client.close()


def _stream_loader(stream: str) -> Callable[[Any], dict[str, Any]]:
    procedure = f"core.load_{stream}"

    def load_stream(session: Any) -> dict[str, Any]:
        return _load(session, (stream,), procedure)

    load_stream.__name__ = load_stream.__qualname__ = f"load_{stream}"
    return load_stream


# One handler per stream of the registry: a Python procedure names its handler as
# module.function, and the setup script creates core.load_<stream> with HANDLER
# 'orchestra_app.handlers.load_<stream>' (both generated from resources/streams.json).
for _stream in ALL_STREAMS:
    globals()[f"load_{_stream}"] = _stream_loader(_stream)


def load_all(session: Any) -> dict[str, Any]:
    return _load(session, ALL_STREAMS, "core.load_all")


def test_connection(session: Any) -> dict[str, Any]:
    store = Store(session)
    client, _ = _client(store)
    try:
        return probe(client)
    finally:
        client.close()


def set_api_key(session: Any, key: str) -> str:
    """Changes the secret in place (functions bound to it see the new key on their next call)."""
    if key is None or not _KEY_CHARS.match(key.strip()):
        raise config_error(
            "That does not look like an Orchestra API key (8 to 512 characters, no spaces or quotes). "
            "Copy it again from Orchestra: Settings > API key."
        )
    session.sql(f"ALTER SECRET {SECRET_OBJECT} SET SECRET_STRING = '{key.strip()}'").collect()
    # Only the time is recorded, so core.create_eai_objects() can tell whether a key was set.
    session.sql(
        f"MERGE INTO {egress.STATUS_TABLE} AS t USING (SELECT 'api_key_set_at' AS name) AS s ON t.name = s.name "
        "WHEN MATCHED THEN UPDATE SET value = TO_VARCHAR(CURRENT_TIMESTAMP()), updated_at = CURRENT_TIMESTAMP() "
        "WHEN NOT MATCHED THEN INSERT (name, value, updated_at) "
        "VALUES (s.name, TO_VARCHAR(CURRENT_TIMESTAMP()), CURRENT_TIMESTAMP())"
    ).collect()
    return "API key saved. Check it with CALL core.test_connection();"


def set_setting(session: Any, name: str, value: str) -> str:
    key = (name or "").strip().lower()
    parse_setting(key, value)  # raises a config error naming the setting
    Store(session).write_setting(key, "" if value is None else str(value).strip())
    return f"{key} = {value!r} (default {SETTINGS[key][0]!r}): {SETTINGS[key][2]}"


def reset_stream(session: Any, stream: str) -> str:
    """Forgets a stream's cursor and open ids; the next load re-reads all the history the API keeps."""
    if stream not in ALL_STREAMS:
        raise config_error(f"Unknown stream {stream!r}: use one of {', '.join(ALL_STREAMS)}.")
    Store(session).reset_state(stream)
    return f"{stream}: state cleared; the next load re-reads the last 7 days and upserts by id."


def _cron(expression: str) -> str:
    parts = (expression or "").split()
    if len(parts) == 5:
        parts.append("UTC")
    if len(parts) != 6 or not all(_CRON_FIELD.match(p) for p in parts[:5]) or not _TIMEZONE.match(parts[5]):
        raise config_error(
            f"Schedule {expression!r} is not a cron expression: use 5 fields and an optional time zone, "
            "e.g. '0 * * * *' (hourly, UTC) or '*/30 * * * * Europe/London'."
        )
    return " ".join(parts)


def enable_schedule(session: Any, cron: str) -> dict[str, Any]:
    """Checks the approval and the key, then resumes the serverless task that runs core.load_all()."""
    schedule = _cron(cron)
    approved = session.sql("SHOW APPROVED SPECIFICATIONS").collect()
    if not any(str(r[0]).upper() == egress.SPEC_NAME.upper() for r in approved):
        raise config_error(
            f"The app may not reach {egress.HOST_PORT} yet: approve the '{egress.SPEC_LABEL}' app specification "
            "(Snowsight: Catalog > Apps > this app > Security / Connections), then run enable_schedule again."
        )
    check = test_connection(session)
    session.sql(f"ALTER TASK {TASK} SUSPEND").collect()
    session.sql(f"ALTER TASK {TASK} SET SCHEDULE = 'USING CRON {schedule}'").collect()
    session.sql(f"ALTER TASK {TASK} RESUME").collect()
    return {"schedule": f"USING CRON {schedule}", "task": TASK, "state": "started", "connection": check}


def disable_schedule(session: Any) -> str:
    session.sql(f"ALTER TASK {TASK} SUSPEND").collect()
    return f"{TASK} suspended; tables and state are kept. CALL core.enable_schedule('<cron>') to resume."

