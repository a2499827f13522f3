"""Every table the demo generator writes satisfies the data contract (checked against the specs)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from helix.testing.demo import DemoSummary, generate_company
from helix.warehouse.schema import CONTRACT_TABLES, TableSpec

from .conftest import END

TABLES = list(CONTRACT_TABLES)
LEAP_END = date(2024, 2, 29)


def _read(directory: Path, name: str) -> pa.Table:
    return pq.read_table(directory / f"{name}.parquet")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoSummary]:
    """A small company whose history ends on a leap day, in the middle of a month."""
    out = tmp_path_factory.mktemp("tiny") / "company"
    return out, generate_company(out, accounts=90, months=5, seed=23, end=LEAP_END)


@pytest.fixture(scope="module", params=["company", "tiny"])
def generated(request: pytest.FixtureRequest) -> tuple[dict[str, pa.Table], DemoSummary, date]:
    directory, summary = request.getfixturevalue(request.param)
    return {name: _read(directory, name) for name in TABLES}, summary, summary.end


@pytest.fixture(scope="module")
def tables(generated: tuple[dict[str, pa.Table], DemoSummary, date]) -> dict[str, pa.Table]:
    return generated[0]


def _key_columns(spec: TableSpec) -> list[str]:
    if spec.name == "events":  # event_key is derived: event_id, and the identity of the event
        return ["event_id"]
    return list(spec.key)


@pytest.mark.parametrize("name", TABLES)
def test_columns_follow_the_contract(tables: dict[str, pa.Table], name: str) -> None:
    spec = CONTRACT_TABLES[name]
    names = tables[name].column_names
    assert names[: len(spec.column_names)] == spec.column_names  # contract first, extras after


@pytest.mark.parametrize("name", TABLES)
def test_required_values_present(tables: dict[str, pa.Table], name: str) -> None:
    for column in CONTRACT_TABLES[name].required_columns:
        assert tables[name].column(column).null_count == 0, column


@pytest.mark.parametrize("name", TABLES)
def test_allowed_values_and_bounds(tables: dict[str, pa.Table], name: str) -> None:
    table = tables[name]
    for col in CONTRACT_TABLES[name].columns:
        values = table.column(col.name)
        if col.choices is not None:
            seen = set(pc.unique(values.drop_null()).to_pylist())
            assert seen <= set(col.choices), (col.name, seen - set(col.choices))
        if col.minimum is not None and values.null_count < len(values):
            assert pc.min(values).as_py() >= col.minimum, col.name
        if col.maximum is not None and values.null_count < len(values):
            assert pc.max(values).as_py() <= col.maximum, col.name
        if col.kind == "money":
            assert pa.types.is_decimal(values.type) and values.type.scale == 2, col.name


@pytest.mark.parametrize("name", TABLES)
def test_keys_are_unique(tables: dict[str, pa.Table], name: str) -> None:
    spec = CONTRACT_TABLES[name]
    key = _key_columns(spec)
    table = tables[name].select(key)
    distinct = table.group_by(key).aggregate([]).num_rows
    assert distinct == table.num_rows, f"duplicate {key} in {name}"


def test_every_table_has_rows(company: tuple[Path, DemoSummary]) -> None:
    assert all(count > 0 for count in company[1].tables.values())


def test_event_identity_is_unique_too(tables: dict[str, pa.Table]) -> None:
    ev = tables["events"].select(["account_id", "event_time", "event_type", "user_id"])
    assert ev.group_by(ev.column_names).aggregate([]).num_rows == ev.num_rows


@pytest.mark.parametrize("name", TABLES)
def test_foreign_keys_exist(tables: dict[str, pa.Table], name: str) -> None:
    for col in CONTRACT_TABLES[name].columns:
        if col.references is None:
            continue
        target_table, target_col = col.references.split(".")
        known = set(tables[target_table].column(target_col).to_pylist())
        used = set(tables[name].column(col.name).drop_null().to_pylist())
        assert used <= known, (name, col.name, sorted(used - known)[:5])


def test_subscription_periods(generated: tuple[dict[str, pa.Table], DemoSummary, date]) -> None:
    tables, _, end = generated
    subs = tables["subscriptions"].to_pylist()
    for row in subs:
        assert row["end_date"] is None or row["end_date"] > row["start_date"], row
        assert row["mrr"] >= 0 and row["mrr"] == row["mrr"].quantize(Decimal("0.01"))
        assert row["contract_end_date"] > row["start_date"]
        assert row["start_date"] < end
    # an account's rows of one product never overlap
    by_line: dict[tuple[str, str], list[tuple]] = {}
    for row in subs:
        by_line.setdefault((row["account_id"], row["product"]), []).append(
            (row["start_date"], row["end_date"])
        )
    for periods in by_line.values():
        periods.sort()
        for (_, end1), (start2, _) in zip(periods, periods[1:], strict=False):
            assert end1 is not None and end1 <= start2


def test_nothing_happens_after_the_end(
    generated: tuple[dict[str, pa.Table], DemoSummary, date],
) -> None:
    tables, _, end = generated
    checks = {
        "events": "event_time",
        "activities": "occurred_at",
        "tickets": "created_at",
        "survey_responses": "responded_at",
        "payments": "paid_at",
        "accounts": "created_at",
    }
    for name, column in checks.items():
        latest = pc.max(tables[name].column(column)).as_py()
        assert latest is None or latest.date() < end, (name, latest)
    dated = {"churn_reasons": "churned_on", "payments": "due_date", "contacts": "ended_at"}
    for name, column in dated.items():
        latest = pc.max(tables[name].column(column)).as_py()
        assert latest is None or latest < end, (name, latest)


def test_every_account_has_a_subscription_and_an_owner(
    generated: tuple[dict[str, pa.Table], DemoSummary, date],
) -> None:
    tables, summary, _ = generated
    accounts = set(tables["accounts"].column("account_id").to_pylist())
    assert set(tables["subscriptions"].column("account_id").to_pylist()) == accounts
    owners = set(tables["accounts"].column("owner_email").to_pylist())
    assert owners <= {c["email"] for c in summary.csms}
    assert all(o.endswith("@helix-demo.io") for o in owners)


def test_churned_accounts_have_reasons(tables: dict[str, pa.Table]) -> None:
    churn = tables["churn_reasons"].to_pylist()
    assert {r["churn_type"] for r in churn} <= {"voluntary", "involuntary"}
    assert all(r["reason"] for r in churn)
    ends = {}
    for row in tables["subscriptions"].to_pylist():
        if row["end_date"] is not None:
            ends.setdefault(row["account_id"], set()).add(row["end_date"])
    for row in churn:  # the subscription ends on the day the churn is recorded
        assert row["churned_on"] in ends[row["account_id"]]


def test_summary_counts_match_files(company: tuple[Path, DemoSummary]) -> None:
    summary = company[1].to_dict()
    assert summary["tables"] == {name: _read(company[0], name).num_rows for name in TABLES}
    assert sum(summary["segments"].values()) == 600
    assert set(summary["arr_by_segment"]) == {"SMB", "Mid-Market", "Enterprise"}
    assert summary["end"] == END.isoformat() and summary["seed"] == 11 and summary["months"] == 24
