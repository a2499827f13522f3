"""Fixtures for the metrics tests: an empty in-memory DuckDB warehouse."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from helix.warehouse import Warehouse, open_warehouse


@pytest.fixture
def wh() -> Iterator[Warehouse]:
    """A fresh in-memory DuckDB warehouse with every Helix table created (empty)."""
    w = open_warehouse("duckdb://")
    yield w
    w.close()
