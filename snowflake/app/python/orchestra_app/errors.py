"""Errors a user can act on. Every message says what happened and what to do next."""

from __future__ import annotations

# The failure types of docs/sync-algorithm.md ("Errors while reading"), as Airbyte names them.
FAILURE_TYPES = {"config": "config_error", "transient": "transient_error", "system": "system_error"}


class OrchestraError(Exception):
    """A failure of the app. `config` errors are fixed by the user (key, settings, approval);
    `transient` ones ran out of retries on a cause that passes (429, 5xx, timeouts, shifting
    pages) and the next load retries them; `system` ones are neither (an unexpected answer)."""

    def __init__(self, message: str, kind: str = "system", status: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status

    @property
    def failure_type(self) -> str:
        return FAILURE_TYPES.get(self.kind, "system_error")


def config_error(message: str, status: int | None = None) -> OrchestraError:
    return OrchestraError(message, "config", status)


def redact(text: str, secret: str | None) -> str:
    """The last line of defence: no message that leaves the app may carry the API key."""
    if secret and len(secret) >= 4:
        return text.replace(secret, "***")
    return text
