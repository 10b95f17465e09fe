"""External access: the app's integrations (account-level, owned by the app), its EXTERNAL_ACCESS
specifications and their approval, and the network guard a routine runs behind."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError

from ..fake_snowflake import Row, Runtime
from ..scripting import literal
from .model import Error, Integration, ident

if TYPE_CHECKING:
    from .account import Account


LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class ExternalAccess:
    """Integrations and specifications of an installed app (a part of InstalledApp)."""

    account: Account
    name: str
    runtime: Runtime
    privileges: set[str]

    def _create_integration(self, q: str, flat: str) -> list[Row]:
        if "CREATE EXTERNAL ACCESS INTEGRATION" not in self.privileges:
            raise Error(
                "Insufficient privileges to operate on account: the manifest does not request "
                "CREATE EXTERNAL ACCESS INTEGRATION"
            )
        m = re.match(
            r"(?is)CREATE\s+(OR\s+REPLACE\s+)?EXTERNAL\s+ACCESS\s+INTEGRATION\s+(IF\s+NOT\s+EXISTS\s+)?"
            r'("(?:[^"]|"")+"|\w+)',
            q,
        )
        if not m:
            raise Error(f"syntax error in {q[:80]!r}")
        name = ident(m.group(3))
        existing = self.account.integrations.get(name)
        if existing and m.group(2):
            return [Row((f"{name} already exists, statement succeeded.",), ("STATUS",))]
        if existing and (not m.group(1) or existing.owner != self.name):
            raise Error(f"Object '{name}' already exists." if not m.group(1) else "Insufficient privileges")
        rules, secrets, enabled = self._integration_properties(q)
        if rules is None or enabled is None:
            raise Error("CREATE EXTERNAL ACCESS INTEGRATION needs ALLOWED_NETWORK_RULES and ENABLED")
        self.account.integrations[name] = Integration(name, self.name, rules, secrets or [], enabled)
        return [Row((f"Integration {name} successfully created.",), ("STATUS",))]

    def _alter_integration(self, q: str) -> list[Row]:
        m = re.match(r'(?is)ALTER\s+EXTERNAL\s+ACCESS\s+INTEGRATION\s+(?:IF\s+EXISTS\s+)?("(?:[^"]|"")+"|\w+)', q)
        name = ident(m.group(1)) if m else ""
        found = self.account.integrations.get(name)
        if found is None or found.owner != self.name:
            raise Error(f"Integration '{name}' does not exist or not authorized.")
        rules, secrets, enabled = self._integration_properties(q)
        found.rules = rules if rules is not None else found.rules
        found.secrets = secrets if secrets is not None else found.secrets
        found.enabled = enabled if enabled is not None else found.enabled
        return [Row(("Statement executed successfully.",), ("STATUS",))]

    def _integration_properties(self, q: str) -> tuple[list[str] | None, list[str] | None, bool | None]:
        def names(key: str) -> list[str] | None:
            m = re.search(rf"{key}\s*=\s*\(([^)]*)\)", q, re.I)
            return None if m is None else [n.strip().lower() for n in m.group(1).split(",") if n.strip()]

        rules, secrets = names("ALLOWED_NETWORK_RULES"), names("ALLOWED_AUTHENTICATION_SECRETS")
        for rule in rules or []:
            if rule not in self.runtime.network_rules:
                raise Error(f"Network rule '{rule.upper()}' does not exist or not authorized.")
        for secret in secrets or []:
            if secret not in self.runtime.secrets:
                raise Error(f"Secret '{secret.upper()}' does not exist or not authorized.")
        m = re.search(r"ENABLED\s*=\s*(TRUE|FALSE)", q, re.I)
        return rules, secrets, None if m is None else m.group(1).upper() == "TRUE"

    def _set_specification(self, q: str) -> list[Row]:
        m = re.match(r"(?is)ALTER\s+APPLICATION\s+SET\s+SPECIFICATION\s+(\w+)", q)
        name = m.group(1).lower() if m else ""
        kind = re.search(r"TYPE\s*=\s*(\w+)", q, re.I)
        hosts = re.search(r"HOST_PORTS\s*=\s*\(([^)]*)\)", q, re.I)
        label = re.search(r"LABEL\s*=\s*'((?:[^']|'')*)'", q, re.I)
        if not (kind and hosts and label) or kind.group(1).upper() != "EXTERNAL_ACCESS":
            raise Error("ALTER APPLICATION SET SPECIFICATION needs TYPE = EXTERNAL_ACCESS, LABEL and HOST_PORTS")
        host_list = sorted(h.strip().strip("'") for h in hosts.group(1).split(",") if h.strip())
        old = self.runtime.specs.get(name)
        if old and old["hosts"] == host_list:  # same definition: same sequence number and status
            old["sql"], old["label"] = q, label.group(1)
        else:  # a new definition needs a new approval
            sequence = old["sequence"] + 1 if old else 1
            self.runtime.specs[name] = {
                "hosts": host_list,
                "host_ports": hosts.group(1),
                "status": "PENDING",
                "sequence": sequence,
                "label": label.group(1),
                "sql": q,
            }
        return [Row(("Statement executed successfully.",), ("STATUS",))]

    def _specifications_view(self, q: str) -> str:
        rows = [
            f"SELECT {literal(n.upper())} AS NAME, {literal(s['status'])} AS STATUS, {s['sequence']} AS SEQUENCE_NUMBER"
            for n, s in self.runtime.specs.items()
        ] or ["SELECT NULL AS NAME, NULL AS STATUS, NULL AS SEQUENCE_NUMBER WHERE FALSE"]
        view = "(" + " UNION ALL ".join(rows) + ") AS application_specifications"
        return re.sub(r"INFORMATION_SCHEMA\.APPLICATION_SPECIFICATIONS", view, q, flags=re.I)

    def approved_hosts(self) -> set[str]:
        return {h for s in self.runtime.specs.values() if s["status"] == "APPROVED" for h in s["hosts"]}


@contextlib.contextmanager
def network_guard(allowed: set[str], redirects: dict[str, str], who: str) -> Iterator[None]:
    """Connections only to `allowed` hosts (and loopback once any host is allowed); requests to a
    redirected URL prefix go where the account says (the simulator stands in for Orchestra)."""
    original = requests.adapters.HTTPAdapter.send

    def send(adapter: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        url = request.url
        parts = urlsplit(url)
        host = f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"
        if host not in allowed and not (allowed and parts.hostname in LOOPBACK):
            # Blocked egress looks to the handler like a host it cannot connect to: requests wraps
            # urllib3's NewConnectionError, as for a refused connection or an unknown name.
            blocked = NewConnectionError(
                None,
                f"Failed to connect to {host}: {who} may not reach it (no external access "
                "integration allows it, or its app specification is not approved)",
            )
            raise requests.ConnectionError(MaxRetryError(None, url, blocked))  # type: ignore[arg-type]
        for prefix, target in redirects.items():
            if url.startswith(prefix):
                request.url = target + url[len(prefix) :]
        return original(adapter, request, *args, **kwargs)

    requests.adapters.HTTPAdapter.send = send  # type: ignore[method-assign]
    try:
        yield
    finally:
        requests.adapters.HTTPAdapter.send = original  # type: ignore[method-assign]
