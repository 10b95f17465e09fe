"""Errors a user can act on. Every message says what happened and what to do next."""

from __future__ import annotations


class OrchestraError(Exception):
    """A failure of the app. `config` errors are fixed by the user (key, settings, approval);
    `system` errors are transient or on Orchestra's side and the next load retries them."""

    def __init__(self, message: str, kind: str = "system", status: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status


def config_error(message: str, status: int | None = None) -> OrchestraError:
    return OrchestraError(message, "config", status)


def redact(text: str, secret: str | None) -> str:
    """The last line of defence: no message that leaves the app may carry the API key."""
    if secret and len(secret) >= 4:
        return text.replace(secret, "***")
    return text
