"""The `mrr_movements` stage of `helix run`: full rebuilds, incremental rebuilds by date."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from helix.metrics import rollforward
from helix.metrics.mrr import ledger
from helix.metrics.stage import STAGE, incremental_cutoff
from helix.pipeline import registered_stages, run_pipeline
from helix.warehouse import Warehouse
from helix.warehouse.schema import DERIVED_TABLES, MRR_MOVEMENTS

from .helpers import load, payment, reason, sub
from .strategies import seeded_history

D = date


def _table(wh: Warehouse) -> list[dict[str, Any]]:
    rows = wh.table(MRR_MOVEMENTS.name).to_pyarrow().to_pylist()
    return sorted(rows, key=lambda r: (r["account_id"], r["month"]))


def _run(wh: Warehouse, as_of: date, full: bool = False) -> Any:
    report = run_pipeline(wh, as_of=as_of, full=full, only=[STAGE.name])
    (outcome,) = report.stages
    return outcome


def _history(wh: Warehouse) -> None:
    h = seeded_history(7, 60)
    load(wh, h["subscriptions"], reasons=h["churn_reasons"], payments=h["payments"])


def test_stage_is_registered_with_its_tables() -> None:
    stage = next(s for s in registered_stages() if s.name == "mrr_movements")
    assert stage.order == 20
    assert set(stage.inputs) == {"subscriptions", "churn_reasons", "payments", "accounts"}
    assert stage.outputs == ("mrr_movements",)
    assert DERIVED_TABLES["mrr_movements"] is MRR_MOVEMENTS


def test_full_build_writes_the_ledger_with_its_schema(wh: Warehouse) -> None:
    load(
        wh,
        [sub("a", D(2024, 1, 15), D(2024, 3, 10), 100), sub("b", D(2024, 2, 1), None, 50)],
        reasons=[reason("a", D(2024, 3, 10), "voluntary")],
        payments=[payment("b", D(2024, 2, 1), "paid")],
    )
    outcome = _run(wh, D(2024, 4, 15))
    assert outcome.status == "ran" and outcome.notes == ["full rebuild"]
    assert wh.table(MRR_MOVEMENTS.name).schema() == MRR_MOVEMENTS.ibis_schema()
    rows = _table(wh)
    assert [(r["account_id"], r["month"], r["movement"], r["movement_type"]) for r in rows] == [
        ("a", D(2024, 1, 1), "new", None),
        ("a", D(2024, 2, 1), "none", None),
        ("a", D(2024, 3, 1), "churn", "voluntary"),
        ("b", D(2024, 1, 1), "new", None),  # in force at the 1 Feb instant
        ("b", D(2024, 2, 1), "none", None),
        ("b", D(2024, 3, 1), "none", None),
        ("b", D(2024, 4, 1), "none", None),
    ]
    april = rows[-1]
    assert (april["period_end"], april["complete"], april["as_of"]) == (
        D(2024, 4, 15),
        0,
        D(2024, 4, 15),
    )
    assert all(r["complete"] == 1 for r in rows[:-1])
    totals = rollforward(wh.table(MRR_MOVEMENTS.name)).to_pyarrow().to_pylist()
    assert [t["end_mrr"] for t in totals] == [
        Decimal("150"),
        Decimal("150"),
        Decimal("50"),
        Decimal("50"),
    ]


def test_as_of_moving_forward_recomputes_only_recent_months(wh: Warehouse) -> None:
    _history(wh)
    first = _run(wh, D(2024, 6, 15))
    assert first.notes == ["full rebuild"]
    assert incremental_cutoff(wh, D(2024, 9, 3), D(2024, 6, 15), full=False) == D(2024, 6, 1)
    second = _run(wh, D(2024, 9, 3))
    assert second.notes == ["months from 2024-06-01 recomputed"]
    incremental = _table(wh)
    third = _run(wh, D(2024, 9, 3), full=True)
    assert third.notes == ["full rebuild"]
    assert _table(wh) == incremental
    assert incremental == sorted(
        ledger(wh, D(2024, 9, 3)).to_pyarrow().to_pylist(),
        key=lambda r: (r["account_id"], r["month"]),
    )


def test_changed_inputs_or_an_earlier_as_of_force_a_full_rebuild(wh: Warehouse) -> None:
    _history(wh)
    _run(wh, D(2024, 6, 15))
    wh.record_change("payments", note="test")
    assert incremental_cutoff(wh, D(2024, 7, 1), D(2024, 6, 15), full=False) is None
    assert _run(wh, D(2024, 7, 1)).notes == ["full rebuild"]
    assert incremental_cutoff(wh, D(2024, 5, 1), D(2024, 7, 1), full=False) is None
    assert _run(wh, D(2024, 5, 1)).notes == ["full rebuild"]
    assert incremental_cutoff(wh, D(2024, 8, 1), D(2024, 5, 1), full=True) is None
    assert max(r["month"] for r in _table(wh)) == D(2024, 4, 1)


def test_unchanged_inputs_and_date_skip_the_stage(wh: Warehouse) -> None:
    _history(wh)
    _run(wh, D(2024, 6, 15))
    assert _run(wh, D(2024, 6, 15)).status == "skipped"


def test_empty_warehouse_builds_an_empty_ledger(wh: Warehouse) -> None:
    outcome = _run(wh, D(2024, 6, 15))
    assert outcome.rows == {"mrr_movements": 0}
    assert _run(wh, D(2024, 7, 15)).rows == {"mrr_movements": 0}


def test_ledger_opens_the_month_before_a_start_on_the_first(wh: Warehouse) -> None:
    load(wh, [sub("a", D(2024, 2, 1), None, 100)])
    rows = ledger(wh, D(2024, 3, 1)).order_by("month").to_pyarrow().to_pylist()
    assert [(r["month"], r["movement"], r["start_mrr"]) for r in rows] == [
        (D(2024, 1, 1), "new", Decimal("0")),
        (D(2024, 2, 1), "none", Decimal("100")),
    ]
