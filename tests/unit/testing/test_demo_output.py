"""Determinism, CSV and Parquet agreement, atomic writes, the CLI and the public surface."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

import helix.testing.demo as demo
from helix.errors import UserError
from helix.testing.demo import SCHEMAS, TABLES, generate_company

from .conftest import END


def _bytes(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_public_surface() -> None:
    assert sorted(demo.__all__) == ["DemoSummary", "SCHEMAS", "TABLES", "generate_company"]
    assert set(TABLES) == {
        "accounts", "subscriptions", "events", "contacts", "activities",
        "tickets", "survey_responses", "churn_reasons", "payments",
    }  # fmt: skip


def test_same_inputs_same_bytes(tmp_path: Path) -> None:
    a = generate_company(tmp_path / "a", accounts=120, months=6, seed=5, end=END)
    b = generate_company(tmp_path / "b", accounts=120, months=6, seed=5, end=END)
    assert _bytes(tmp_path / "a") == _bytes(tmp_path / "b")
    assert a.tables == b.tables


def test_other_seed_other_company(tmp_path: Path) -> None:
    generate_company(tmp_path / "a", accounts=60, months=6, seed=5, end=END)
    generate_company(tmp_path / "b", accounts=60, months=6, seed=6, end=END)
    assert _bytes(tmp_path / "a")["accounts.parquet"] != _bytes(tmp_path / "b")["accounts.parquet"]


def test_event_scale_changes_only_events(tmp_path: Path) -> None:
    low = generate_company(
        tmp_path / "low", accounts=80, months=6, seed=5, end=END, event_scale=0.2
    )
    high = generate_company(
        tmp_path / "high", accounts=80, months=6, seed=5, end=END, event_scale=3.0
    )
    assert high.tables["events"] > low.tables["events"]
    a, b = _bytes(tmp_path / "low"), _bytes(tmp_path / "high")
    assert all(a[name] == b[name] for name in a if name != "events.parquet")


def _csv(directory: Path, name: str) -> pa.Table:
    schema = SCHEMAS[name]
    types = {f.name: (pa.string() if pa.types.is_timestamp(f.type) else f.type) for f in schema}
    table = pa_csv.read_csv(
        directory / f"{name}.csv",
        convert_options=pa_csv.ConvertOptions(column_types=types, strings_can_be_null=True),
    )
    columns = []
    for field in schema:
        col = table.column(field.name)
        if pa.types.is_timestamp(field.type):
            col = col.cast(pa.timestamp("us"))  # ISO-8601 with "T" parses as naive timestamps
        columns.append(col)
    return pa.table(columns, names=schema.names)


@pytest.mark.parametrize("name", TABLES)
def test_csv_and_parquet_agree(small_csv: Path, small_parquet: Path, name: str) -> None:
    parquet = pq.read_table(small_parquet / f"{name}.parquet").cast(SCHEMAS[name])
    csv = _csv(small_csv, name)
    assert csv.num_rows == parquet.num_rows
    assert csv.equals(parquet), name


def test_csv_timestamps_are_iso(small_csv: Path) -> None:
    first = (small_csv / "tickets.csv").read_text(encoding="utf-8").splitlines()[1]
    assert "T" in first.split(",")[2]


def test_existing_company_is_replaced_but_other_files_are_not(tmp_path: Path) -> None:
    out = tmp_path / "co"
    generate_company(out, accounts=30, months=3, seed=1, end=END)
    generate_company(out, accounts=30, months=3, seed=1, end=END, fmt="csv")
    assert sorted(p.suffix for p in out.iterdir()) == [".csv"] * 9
    (out / "notes.txt").write_text("mine")
    with pytest.raises(UserError):
        generate_company(out, accounts=30, months=3, seed=1, end=END)
    assert (out / "notes.txt").read_text() == "mine"


def test_failed_run_leaves_nothing_half_written(tmp_path: Path) -> None:
    def boom(fraction: float, message: str) -> None:
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        generate_company(tmp_path / "co", accounts=30, months=3, seed=1, end=END, progress=boom)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "kwargs", [{"accounts": 0}, {"months": 0}, {"event_scale": -1.0}, {"fmt": "xlsx"}]
)
def test_bad_arguments_are_user_errors(tmp_path: Path, kwargs: dict) -> None:
    args = {"accounts": 10, "months": 3, "seed": 1, "end": END, **kwargs}
    with pytest.raises(UserError):
        generate_company(tmp_path / "co", **args)


def test_cli_generate_json(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELIX_")}
    cmd = [
        sys.executable, "-c", "from helix.cli.main import run; run()",
        "--home", str(tmp_path / "h"),
        "demo", "generate", "--out", str(tmp_path / "co"), "--accounts", "40", "--months", "4",
        "--end", "2024-12-15", "--seed", "3", "--json",
    ]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["end"] == "2024-12-15" and doc["seed"] == 3 and doc["accounts"] == 40
    assert set(doc["tables"]) == set(TABLES)
    assert {"email", "name", "segment"} <= set(doc["csms"][0])
    assert set(doc["arr_by_segment"]) == set(doc["segments"])
    assert sorted(p.name for p in (tmp_path / "co").iterdir()) == sorted(
        f"{t}.parquet" for t in TABLES
    )


def test_month_end_dates_work(tmp_path: Path) -> None:
    summary = generate_company(
        tmp_path / "co", accounts=50, months=13, seed=2, end=date(2024, 3, 31)
    )
    assert summary.tables["subscriptions"] > 0
