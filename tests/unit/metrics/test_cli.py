"""`helix metrics ...` and `helix simulate ...` through the real CLI app."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from helix.cli.main import app
from helix.config import Settings
from helix.errors import UserError
from helix.metrics.retention import WINDOW_KEYS
from helix.warehouse import open_warehouse

from .helpers import load, payment, sub

D = date


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def company(home: Path) -> Path:
    """A data directory whose warehouse holds a small company."""
    settings = Settings.load(home)
    settings.ensure_home()
    with open_warehouse(settings.warehouse_url) as wh:
        load(
            wh,
            [
                sub("a", D(2023, 2, 1), D(2024, 6, 1), 100),
                sub("b", D(2023, 8, 1), None, 300, qty=10),
                sub("b", D(2024, 5, 1), None, 50, product="addon"),
                sub("c", D(2023, 1, 1), None, 500, product="api"),
                sub("c", D(2023, 1, 1), D(2024, 3, 1), 100),
                sub("d", D(2024, 4, 1), None, 200),
            ],
            payments=[payment("a", D(2024, 5, 1), "failed")],
            accounts={
                "a": {"segment": "smb", "owner_email": "ana@x.io"},
                "b": {"segment": "smb", "owner_email": "ana@x.io"},
                "c": {"segment": "enterprise", "owner_email": "bo@x.io"},
                "d": {"segment": "enterprise"},
            },
        )
    return home


def _run(runner: CliRunner, home: Path, *args: str) -> Any:
    return runner.invoke(app, ["--home", str(home), *args])


def _json(runner: CliRunner, home: Path, *args: str) -> Any:
    result = _run(runner, home, *args, "--json")
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return json.loads(result.stdout)


def test_retention_window_json(runner: CliRunner, company: Path) -> None:
    doc = _json(
        runner, company, "metrics", "retention", "--start", "2024-01-01", "--end", "2025-01-01"
    )
    assert tuple(doc) == WINDOW_KEYS
    assert doc["start_mrr"] == 1000.0 and doc["end_mrr"] == 850.0 and doc["new_mrr"] == 200.0
    assert doc["churned_mrr"] == 100.0 and doc["churn_by_type"]["involuntary"] == 100.0
    assert doc["nrr"] == pytest.approx(0.85) and doc["grr"] == pytest.approx(0.8)
    assert doc["expansion_by_type"]["cross_sell"] == 50.0


def test_retention_by_segment_and_series(runner: CliRunner, company: Path) -> None:
    doc = _json(
        runner, company, "metrics", "retention", "--start", "2024-01-01", "--end", "2025-01-01",
        "--by", "segment",
    )  # fmt: skip
    assert doc["by"] == "segment" and set(doc["groups"]) == {"smb", "enterprise"}
    assert tuple(doc["groups"]["smb"]) == WINDOW_KEYS
    series = _json(
        runner, company, "metrics", "retention", "--series", "quarterly", "--from", "2024-01-01",
        "--to", "2024-12-31", "--segment", "smb",
    )  # fmt: skip
    assert [w["period"] for w in series["windows"]] == ["2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4"]
    assert series["windows"][1]["churned_mrr"] == 100.0


def test_ledger_commands(runner: CliRunner, company: Path) -> None:
    one = _json(runner, company, "metrics", "ledger", "c", "--as-of", "2024-04-01")
    march = [m for m in one["months"] if m["month"] == "2024-02-01"][0]
    assert (march["movement"], march["movement_type"]) == ("contraction", "product_dropped")
    assert march["start_mrr"] == 600.0 and march["end_mrr"] == 500.0
    roll = _json(runner, company, "metrics", "ledger", "--as-of", "2024-07-01")
    months = roll["months"]
    for a, b in zip(months, months[1:], strict=False):
        assert a["end_mrr"] == b["start_mrr"]
    window = _json(
        runner, company, "metrics", "ledger", "--start", "2024-01-01", "--end", "2025-01-01"
    )
    assert {r["account_id"]: r["movement"] for r in window["rows"]} == {
        "a": "churn", "b": "expansion", "c": "contraction", "d": "new",
    }  # fmt: skip
    missing = _run(runner, company, "metrics", "ledger", "nobody", "--json")
    assert isinstance(missing.exception, UserError)


def test_cohorts_with_chart(runner: CliRunner, company: Path, tmp_path: Path) -> None:
    chart = tmp_path / "cohorts.svg"
    doc = _json(
        runner, company, "metrics", "cohorts", "--by", "quarter", "--measure", "nrr",
        "--as-of", "2025-01-01", "--chart", str(chart),
    )  # fmt: skip
    assert doc["measure"] == "nrr" and doc["rows"][0]["cohort"] == "2023-Q1"
    assert doc["chart"] == str(chart) and chart.read_text().startswith("<?xml")


def test_settings_then_unit_economics_and_overrides(runner: CliRunner, company: Path) -> None:
    stored = _json(runner, company, "metrics", "settings", "--gross-margin", "0.8", "--cac", "2000")
    assert stored["economics.gross_margin"] == 0.8 and stored["economics.cac"] == 2000.0
    doc = _json(runner, company, "metrics", "unit-economics", "--as-of", "2025-01-01")
    assert doc["inputs"]["gross_margin"] == 0.8 and doc["ltv_cac"]["churn_based"] is not None
    over = _json(
        runner,
        company,
        "metrics",
        "unit-economics",
        "--as-of",
        "2025-01-01",
        "--gross-margin",
        "0.4",
    )
    assert over["cltv"]["churn_based"] == pytest.approx(doc["cltv"]["churn_based"] / 2, abs=0.01)
    bad = _run(runner, company, "metrics", "settings", "--gross-margin", "80")
    assert isinstance(bad.exception, UserError)


def test_benchmark_and_simulations(runner: CliRunner, company: Path) -> None:
    doc = _json(runner, company, "metrics", "benchmark", "--as-of", "2025-01-01")
    assert {p["metric"] for p in doc["placements"]} >= {"grr", "nrr", "expansion_share"}
    sim = _json(
        runner, company, "simulate", "retention", "--start-arr", "10000000",
        "--new-arr-per-year", "3000000", "--grr", "0.85", "--grr-b", "0.93", "--years", "5",
    )  # fmt: skip
    assert sim["difference"] == 4435863.85
    cltv = _json(
        runner, company, "simulate", "cltv", "--arpa", "12000", "--gross-margin", "0.75",
        "--retention", "0.9", "--points", "3",
    )  # fmt: skip
    assert [r["cltv"] for r in cltv["rows"]] == [90000.0, 128571.43]


@pytest.mark.parametrize(
    "args",
    [
        ["metrics", "retention", "--start", "2024-01-01", "--end", "2025-01-01", "--detail"],
        ["metrics", "retention", "--series", "monthly",
         "--from", "2024-01-01", "--to", "2024-03-01"],
        ["metrics", "retention", "--start", "2024-01-01", "--end", "2025-01-01", "--by", "product"],
        ["metrics", "ledger", "b", "--as-of", "2024-07-01"],
        ["metrics", "ledger", "--as-of", "2024-07-01"],
        ["metrics", "cohorts", "--as-of", "2025-01-01"],
        ["metrics", "unit-economics", "--as-of", "2025-01-01", "--gross-margin", "0.7"],
        ["metrics", "benchmark", "--as-of", "2025-01-01"],
        ["metrics", "settings"],
        ["simulate", "cltv", "--arpa", "100", "--gross-margin", "0.7", "--retention", "0.8",
         "--discount-rate", "0.1", "--arr", "1000000"],
    ],
)  # fmt: skip
def test_human_output(runner: CliRunner, company: Path, args: list[str]) -> None:
    result = _run(runner, company, *args)
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    assert result.stdout.strip()


def test_bad_window_is_a_user_error(runner: CliRunner, company: Path) -> None:
    result = _run(
        runner, company, "metrics", "retention", "--start", "2025-01-01", "--end", "2024-01-01"
    )
    assert isinstance(result.exception, UserError)
