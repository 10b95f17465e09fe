"""Fixtures: the handler package on sys.path, a fakesnow-backed app, and the simulator."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[0] / "app" / "python"))
sys.path.insert(0, str(HERE))

from support.account import Account  # noqa: E402
from support.fake_snowflake import FakeSnowflake, run_setup_script  # noqa: E402
from support.simulator import Simulator  # noqa: E402


@pytest.fixture
def snow() -> Iterator[FakeSnowflake]:
    """An empty fakesnow account with the app's database."""
    fake = FakeSnowflake()
    yield fake
    fake.close()


@pytest.fixture
def app(snow: FakeSnowflake) -> FakeSnowflake:
    """The app as installed: setup script run (tables, state, roles, secret, egress, task)."""
    run_setup_script(snow.session)
    return snow


@pytest.fixture
def calm_sim() -> Iterator[Simulator]:
    sim = Simulator("--scenario", "calm", "--clock", "manual", "--seed", "7", "--records", "600")
    yield sim
    sim.close()


@pytest.fixture
def account() -> Iterator[Account]:
    """An empty stand-in account (support/account/) to install the app into."""
    acct = Account()
    yield acct
    acct.close()
