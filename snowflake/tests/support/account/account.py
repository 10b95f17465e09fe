"""The account: one fakesnow engine, account-level integrations, installed apps (install, upgrade,
approve, drop), and what a routine sees while it runs (its secrets, its network)."""

from __future__ import annotations

import contextlib
import shutil
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fakesnow

from ..fake_snowflake import APP_DIR
from .app import InstalledApp
from .egress import network_guard
from .model import Error, Integration, Routine


def copy_package(target: Path, edit: Any = None, manifest: Any = None) -> Path:
    """A copy of the app's package (what a provider would publish next), its setup script and
    manifest optionally edited: `edit(text) -> text`."""
    shutil.copytree(APP_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    for name, change in (("setup_script.sql", edit), ("manifest.yml", manifest)):
        if change:
            (target / name).write_text(change((target / name).read_text()))
    return target


class Account:
    """A Snowflake account: one fakesnow engine, account-level integrations, installed apps."""

    def __init__(self, timezone: str | None = None) -> None:
        self._patch = fakesnow.patch()
        self._patch.__enter__()
        self.integrations: dict[str, Integration] = {}
        self.apps: dict[str, InstalledApp] = {}
        # URL prefix -> where requests to it really go (the simulator stands in for Orchestra).
        self.redirects: dict[str, str] = {}
        self._current: InstalledApp | None = None
        self._secrets: dict[str, str] | None = None
        # The routine running now (its PACKAGES decide what its handler can import).
        self.routine: Routine | None = None
        self._timezone = timezone
        module = types.ModuleType("_snowflake")
        module.get_generic_secret_string = self._secret  # type: ignore[attr-defined]
        sys.modules["_snowflake"] = module

    def create(self, name: str) -> InstalledApp:
        app = InstalledApp(self, name)
        self.apps[app.name] = app
        if self._timezone:
            self.set_timezone(self._timezone)
        self._current = self._current or app
        return app

    def install(self, name: str = "ORCHESTRA_DATA_APP", version_dir: Path = APP_DIR) -> InstalledApp:
        if name.upper() in self.apps:
            raise Error(f"Object '{name.upper()}' already exists.")
        app = self.create(name)
        app.run_setup(version_dir / "setup_script.sql")
        return app

    def upgrade(self, name: str, version_dir: Path) -> list[str]:
        return self.apps[name.upper()].run_setup(version_dir / "setup_script.sql")

    def approve(
        self, name: str, spec: str = "orchestra_api", sequence_number: int | None = None, approve: bool = True
    ) -> None:
        """ALTER APPLICATION <name> APPROVE|DECLINE SPECIFICATION <spec> SEQUENCE_NUMBER = n, then
        the app's after_specification_change callback (asynchronous: its errors are recorded)."""
        app = self.apps[name.upper()]
        found = app.runtime.specs.get(spec.lower())
        if found is None:
            raise Error(f"Specification '{spec.upper()}' does not exist")
        number = found["sequence"] if sequence_number is None else sequence_number
        if number != found["sequence"]:
            raise Error(f"Sequence number {number} is not the current one ({found['sequence']}) for {spec.upper()}")
        found["status"] = "APPROVED" if approve else "DECLINED"
        callback = (app.manifest.get("lifecycle_callbacks") or {}).get("after_specification_change")
        if callback:
            record: dict[str, Any] = {"callback": callback, "spec": spec.upper()}
            try:
                record["result"] = app.invoke(app.resolve(callback, 1), [spec.upper()])
            except Exception as exc:  # noqa: BLE001 - asynchronous: the approval stands
                record["error"] = str(exc)
            app.callback_history.append(record)

    def drop(self, name: str, cascade: bool = False) -> None:
        app = self.apps[name.upper()]
        owned = [i.name for i in self.integrations.values() if i.owner == app.name]
        if owned and not cascade:
            raise Error(
                f"Cannot drop application {app.name}: it owns objects outside itself ({', '.join(owned)}). "
                f"Use DROP APPLICATION {app.name} CASCADE."
            )
        for integration in owned:
            del self.integrations[integration]
        # fakesnow cannot drop the database a connection uses: empty it instead.
        duck = app.conn._duck_conn
        for (schema,) in duck.execute(
            "SELECT schema_name FROM information_schema.schemata WHERE catalog_name = ? "
            "AND schema_name NOT IN ('information_schema', 'main', 'pg_catalog')",
            [app.name],
        ).fetchall():
            duck.execute(f'DROP SCHEMA IF EXISTS "{app.name}"."{schema}" CASCADE')
        app.conn.close()
        del self.apps[app.name]

    def set_timezone(self, zone: str) -> None:
        for app in self.apps.values():
            app.conn._duck_conn.execute(f"SET GLOBAL TimeZone = '{zone}'")
            return

    # -- the runtime inside a routine -------------------------------------------------------

    def _secret(self, alias: str) -> str:
        app = self._current
        bindings = self._secrets if self._secrets is not None else (app.runtime.secret_bindings if app else {})
        target = bindings.get(alias)
        if app is None or target is None or target not in app.runtime.secrets:
            raise ValueError(f"secret {alias!r} is not bound to this function or procedure")
        return app.runtime.secrets[target]

    @contextlib.contextmanager
    def running(self, app: InstalledApp, routine: Routine) -> Iterator[None]:
        """Inside one routine: only its secrets, and the network only as its integrations and the
        approved specification allow (other connections fail as unreachable)."""
        allowed: set[str] = set()
        for name in routine.integrations:
            integration = self.integrations.get(name)
            if integration and integration.enabled and integration.owner == app.name:
                for rule in integration.rules:
                    hosts = {h.strip().strip("'") for h in app.runtime.network_rules.get(rule, "").split(",")}
                    allowed |= hosts & app.approved_hosts()
        saved = (self._current, self._secrets, self.routine)
        self._current, self._secrets, self.routine = app, routine.secrets, routine
        try:
            with network_guard(allowed, self.redirects, routine.name):
                yield
        finally:
            self._current, self._secrets, self.routine = saved

    def close(self) -> None:
        for app in list(self.apps.values()):
            with contextlib.suppress(Exception):
                app.conn.close()
        self.apps.clear()
        self._patch.__exit__(None, None, None)
        sys.modules.pop("_snowflake", None)
