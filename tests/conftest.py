"""Shared fixtures: temporary data directories and the PostgreSQL test server.

PostgreSQL tests use ``HELIX_TEST_POSTGRES_URL`` (default
``postgresql://root@127.0.0.1:5432/test``). Each test that asks for
``postgres_url`` gets a fresh database, dropped afterwards. When the server is
unreachable the tests are skipped with a loud warning, except under CI
(``CI=true``) where an unreachable server fails the run.
"""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

# two test workers share the machine's cores: one LightGBM thread each (see model_threads)
os.environ.setdefault("HELIX_MODEL_THREADS", "1")

POSTGRES_ADMIN_URL = os.environ.get(
    "HELIX_TEST_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/test"
)


def _postgres_available() -> str | None:
    try:
        import psycopg

        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3):
            return None
    except Exception as exc:  # pragma: no cover - depends on the machine
        return str(exc)


_PG_PROBLEM: str | None = None
_PG_CHECKED = False


def _pg_problem() -> str | None:
    global _PG_CHECKED, _PG_PROBLEM
    if not _PG_CHECKED:
        _PG_PROBLEM = _postgres_available()
        _PG_CHECKED = True
    return _PG_PROBLEM


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wants_pg = [i for i in items if "postgres" in i.keywords]
    if not wants_pg:
        return
    problem = _pg_problem()
    if problem is None:
        return
    message = f"PostgreSQL at {POSTGRES_ADMIN_URL} is unreachable: {problem}"
    if os.environ.get("CI") == "true":
        raise pytest.UsageError(f"CI must run the PostgreSQL tests. {message}")
    warnings.warn(f"SKIPPING {len(wants_pg)} POSTGRESQL TESTS. {message}", stacklevel=1)
    marker = pytest.mark.skip(reason=f"SKIPPED, PostgreSQL unavailable: {message}")
    for item in wants_pg:
        item.add_marker(marker)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    skipped = [
        r for r in terminalreporter.stats.get("skipped", []) if "PostgreSQL unavailable" in str(r.longrepr)
    ]
    if skipped:
        terminalreporter.write_sep("!", f"{len(skipped)} POSTGRESQL TESTS WERE SKIPPED", red=True)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL database for this test (dropped afterwards)."""
    import psycopg

    name = f"helix_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty Helix data directory, with the store URLs left at their defaults."""
    monkeypatch.delenv("HELIX_WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("HELIX_DATABASE_URL", raising=False)
    monkeypatch.delenv("HELIX_HOME", raising=False)
    path = tmp_path / "helix-home"
    return path
