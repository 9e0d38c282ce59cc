"""Shared fixtures. Every test runs with the data directory and database under tmp_path."""

from __future__ import annotations

import io
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parent.parent

T0 = datetime(2026, 3, 12, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path, monkeypatch):
    """Point the user data dir and the default database at tmp_path (never the real home)."""
    data = tmp_path / "data"
    monkeypatch.setenv("DIALOGSTOD_DATA_DIR", str(data))
    monkeypatch.setenv("DIALOGSTOD_DB", str(data / "dialogstod.db"))
    monkeypatch.delenv("NO_COLOR", raising=False)
    return data


@pytest.fixture
def mini_flow():
    from assistant.flows import load_flow

    return load_flow(FIXTURES / "flows" / "mini.toml").flow


@pytest.fixture
def mini(isolated_dirs):
    """The test flow `mini` installed as a user flow (user_flows_dir = DIALOGSTOD_DATA_DIR/flows)."""
    import shutil

    from assistant import locations

    folder = locations.user_flows_dir()
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURES / "flows" / "mini.toml", folder / "mini.toml")
    return "mini"


@pytest.fixture
def store(isolated_dirs):
    """The default store (in the test's data directory)."""
    from assistant.database import open_store

    s = open_store()
    yield s
    s.close()


class Clock:
    """A fixed clock that moves only when told."""

    def __init__(self, start: datetime = T0):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def tick(self, **delta) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock():
    return Clock()


def run_cli(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    """Run ``dialogstod ARGV`` in this process with ``stdin``; returns (exit code, stdout, stderr)."""
    from assistant.cli import main

    out, err = io.StringIO(), io.StringIO()
    old = sys.stdin, sys.stdout, sys.stderr
    sys.stdin, sys.stdout, sys.stderr = io.StringIO(stdin), out, err
    try:
        code = main(list(argv))
    finally:
        sys.stdin, sys.stdout, sys.stderr = old
    return code, out.getvalue(), err.getvalue()
