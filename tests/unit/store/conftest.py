"""Fixtures for the app-store tests: a fresh, migrated SQLite store per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from helix.store import AppStore, open_store
from helix.store import users as users_module


@pytest.fixture(autouse=True)
def fast_hasher(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap Argon2 parameters so the suite stays fast (the algorithm is unchanged)."""
    monkeypatch.setattr(
        users_module, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    users_module._dummy_hash.cache_clear()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """URL of a SQLite file that does not exist yet."""
    return f"sqlite:///{tmp_path / 'app.db'}"


@pytest.fixture
def store(sqlite_url: str) -> Iterator[AppStore]:
    """A freshly created, migrated app store."""
    s = open_store(sqlite_url)
    try:
        yield s
    finally:
        s.close()
