"""HELIX_DUCKDB_THREADS sets DuckDB's threads per query; a bad value is a clear error."""

from __future__ import annotations

import pytest

from helix.errors import ConfigError
from helix.warehouse import open_warehouse
from helix.warehouse.connection import THREADS_ENV


def test_the_setting_reaches_duckdb(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(THREADS_ENV, "1")
    with open_warehouse("duckdb://") as wh:
        assert wh.con.con.execute("SELECT current_setting('threads')").fetchone()[0] == 1


@pytest.mark.parametrize("value", ["0", "-2", "many"])
def test_a_bad_value_names_the_variable(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(THREADS_ENV, value)
    with pytest.raises(ConfigError, match=THREADS_ENV):
        open_warehouse("duckdb://")
