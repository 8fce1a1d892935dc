"""Shared fixtures. Tests never read the real `.env` and never reach the internet."""
from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture(autouse=True)
def _no_dotenv(monkeypatch, tmp_path):
    """Run every test from a temp dir so a developer's `.env` can't leak in."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def clock():
    """A fake clock for the chat core: sleeping advances it instantly."""
    from tests.fakes.recorder import FakeClock
    return FakeClock()


@pytest.fixture
def store(tmp_path):
    """A file-backed Store in the test's temp dir (modules may override with their own)."""
    from storage.store import Store
    s = Store(tmp_path / "ainews.db")
    yield s
    s.close()
