"""Helpers for import tests: write small contract files and open a warehouse."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from helix.warehouse import Warehouse, open_warehouse

ACCOUNTS_HEADER = ["account_id", "name", "segment", "owner_email"]
SUBS_HEADER = ["subscription_id", "account_id", "product", "plan", "start_date", "end_date", "mrr", "quantity"]


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for row in rows:
            w.writerow(["" if v is None else v for v in row])
    return path


@pytest.fixture
def wh(tmp_path: Path) -> Iterator[Warehouse]:
    w = open_warehouse(f"duckdb://{tmp_path / 'wh.duckdb'}")
    yield w
    w.close()


@pytest.fixture
def company(tmp_path: Path) -> Path:
    """A small valid company: 3 accounts, 4 subscription rows, 5 events."""
    d = tmp_path / "company"
    write_csv(
        d / "accounts.csv",
        ACCOUNTS_HEADER + ["employees"],
        [
            ["A1", "Acme", "enterprise", "jane@x.io", 500],
            ["A2", "Beta, Inc.", "smb", "", 20],
            ["A3", "Gamma", "smb", "joe@x.io", 5],
        ],
    )
    write_csv(
        d / "subscriptions.csv",
        SUBS_HEADER,
        [
            ["S1", "A1", "core", "growth", "2024-01-01", "2024-06-01", "1000.50", 10],
            ["S2", "A1", "core", "growth", "2024-06-01", None, "1200", 12],
            ["S3", "A2", "core", "starter", "2024-03-01", None, "99.99", 1],
            ["S4", "A3", "core", "starter", "2024-03-01", "2024-09-01", "50", 1],
        ],
    )
    write_csv(
        d / "events.csv",
        ["account_id", "event_time", "event_type", "user_id"],
        [
            ["A1", "2024-05-01T10:00:00Z", "login", "u1"],
            ["A1", "2024-05-01T12:00:00+02:00", "login", "u2"],
            ["A2", "2024-05-02 09:00:00", "report_created", "u3"],
            ["A2", "2024-05-03", "login", None],
            ["A3", "2024-05-04T00:00:00", "login", "u4"],
        ],
    )
    return d
