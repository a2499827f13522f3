"""Fixtures for the metrics tests: an empty in-memory DuckDB warehouse."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from helix.metrics.loading import load_rows
from helix.warehouse import Warehouse, open_warehouse


@pytest.fixture
def wh() -> Iterator[Warehouse]:
    """A fresh in-memory DuckDB warehouse with every Helix table created (empty)."""
    w = open_warehouse("duckdb://")
    yield w
    w.close()


@pytest.fixture(scope="module")
def mwh() -> Iterator[Warehouse]:
    """One in-memory warehouse for a module; each example replaces the tables it uses."""
    w = open_warehouse("duckdb://")
    yield w
    w.close()


def load_history(wh: Warehouse, h: dict[str, list[dict[str, Any]]]) -> None:
    """Replace each table of ``wh`` named in ``h`` with its rows."""
    for table, rows in h.items():
        load_rows(wh, table, rows)
