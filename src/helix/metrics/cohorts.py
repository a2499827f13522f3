"""Cohort retention: rows = acquisition cohort, columns = months since the cohort's start.

An account's *acquisition date* is its first day with positive MRR; its
cohort is the calendar month or quarter holding that date. A cohort is
measured from its *baseline date*, the first day after the cohort period
(so every member has started): the baseline members are the cohort's
accounts active on that day, with their MRR then (m0). Column k is measured
k calendar months after the baseline date, up to ``as_of``::

    logo  = members active at column k / members
    grr   = sum(min(MRR_k, m0)) / sum(m0)      (what the window GRR gives for the cohort)
    nrr   = sum(MRR_k) / sum(m0)

Column 0 is the baseline itself (1.0). An account that both started and
stopped within its acquisition period has no baseline and is counted only in
``acquired``. Returning accounts count again when they are back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

import ibis
import pyarrow as pa

from helix.errors import UserError
from helix.metrics.movements import (
    Sources,
    account_snapshots,
    first_positive_start,
    positive_rows,
    to_cents,
)
from helix.metrics.periods import add_months, cents, period_label, period_start, ratio
from helix.warehouse import Warehouse

__all__ = ["CohortBy", "Measure", "CohortRow", "CohortTable", "cohort_table"]

CohortBy = Literal["month", "quarter"]
Measure = Literal["logo", "grr", "nrr"]
MEASURES: tuple[str, ...] = ("logo", "grr", "nrr")


@dataclass(frozen=True)
class CohortRow:
    """One acquisition cohort and its retention curve (``values[k]`` = column k)."""

    cohort: str
    period_start: date
    baseline: date
    acquired: int
    accounts: int
    start_mrr: Decimal
    values: list[float | None]

    def to_dict(self) -> dict[str, Any]:
        """JSON form of the row."""
        return {
            "cohort": self.cohort,
            "period_start": self.period_start.isoformat(),
            "baseline": self.baseline.isoformat(),
            "acquired": self.acquired,
            "accounts": self.accounts,
            "start_mrr": self.start_mrr,
            "values": self.values,
        }


@dataclass(frozen=True)
class CohortTable:
    """The cohort grid of one measure."""

    by: str
    measure: str
    as_of: date
    rows: list[CohortRow]

    @property
    def columns(self) -> list[int]:
        """Months since the baseline, 0 to the longest row."""
        width = max((len(r.values) for r in self.rows), default=0)
        return list(range(width))

    def to_dict(self) -> dict[str, Any]:
        """``{"by", "measure", "as_of", "columns", "rows"}``."""
        return {
            "by": self.by,
            "measure": self.measure,
            "as_of": self.as_of.isoformat(),
            "columns": self.columns,
            "rows": [r.to_dict() for r in self.rows],
        }


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def cohort_table(
    wh: Warehouse,
    as_of: date,
    *,
    by: CohortBy = "quarter",
    measure: Measure = "grr",
    segment: str | None = None,
    since: date | None = None,
) -> CohortTable:
    """Retention by acquisition cohort (see the module docstring), measured up to ``as_of``.

    Only cohorts whose baseline date is on or before ``as_of`` are shown;
    ``since`` drops cohorts acquired before it.
    """
    if by not in ("month", "quarter"):
        raise UserError(f"cohorts are by month or quarter, not {by!r}")
    if measure not in MEASURES:
        raise UserError(f"unknown cohort measure {measure!r}", hint="use logo, grr or nrr")
    src = Sources.of(wh, segment=segment)
    rows = positive_rows(src.subscriptions)
    first = first_positive_start(rows)
    earliest = first.first_start.min().to_pyarrow().as_py()
    if earliest is None:
        return CohortTable(by, measure, as_of, [])
    step = 1 if by == "month" else 3
    start = period_start(max(earliest, since) if since else earliest, by)
    cohorts: list[tuple[date, date, str]] = []
    while add_months(start, step) <= as_of:
        cohorts.append((start, add_months(start, step), period_label(start, by)))
        start = add_months(start, step)
    if not cohorts:
        return CohortTable(by, measure, as_of, [])
    ctab = ibis.memtable(
        pa.table(
            {
                "c_start": pa.array([c[0] for c in cohorts], pa.date32()),
                "baseline": pa.array([c[1] for c in cohorts], pa.date32()),
                "baseline_idx": pa.array([_month_index(c[1]) for c in cohorts], pa.int64()),
            }
        )
    )
    bounds_list = []
    b = cohorts[0][1]
    while b <= as_of:
        bounds_list.append(b)
        b = add_months(b, 1)
    bounds = ibis.memtable(
        pa.table(
            {
                "b": pa.array(bounds_list, pa.date32()),
                "b_idx": pa.array([_month_index(x) for x in bounds_list], pa.int64()),
            }
        )
    )
    unit = "M" if by == "month" else "Q"
    members = first.mutate(c_start=first.first_start.truncate(unit))
    members = members.join(ctab, "c_start")
    acquired = members.group_by("c_start").aggregate(acquired=members.count())
    snap = account_snapshots(rows, bounds.select("b"))
    snap = snap.join(bounds, "b").mutate(mrr=to_cents(snap.mrr))
    base = members.join(
        snap, [members.account_id == snap.account_id, members.baseline == snap.b]
    ).select(members.account_id, members.c_start, members.baseline_idx, m0=snap.mrr)
    later = snap.select(l_account=snap.account_id, l_idx=snap.b_idx, mk=snap.mrr)
    grid = base.join(later, [base.account_id == later.l_account, later.l_idx >= base.baseline_idx])
    grid = grid.mutate(k=grid.l_idx - grid.baseline_idx, kept=ibis.least(grid.mk, grid.m0))
    cells = grid.group_by(["c_start", "k"]).aggregate(
        active=grid.count(), mrr=grid.mk.sum(), kept=grid.kept.sum()
    )
    heads = base.group_by("c_start").aggregate(accounts=base.count(), m0=base.m0.sum())

    acquired_by = {r["c_start"]: int(r["acquired"]) for r in acquired.to_pyarrow().to_pylist()}
    head_by = {r["c_start"]: r for r in heads.to_pyarrow().to_pylist()}
    cell_by = {(r["c_start"], int(r["k"])): r for r in cells.to_pyarrow().to_pylist()}
    out: list[CohortRow] = []
    for c_start, baseline, label in cohorts:
        head = head_by.get(c_start)
        if head is None and not acquired_by.get(c_start):
            continue  # nobody acquired in this period
        n = int(head["accounts"]) if head else 0
        m0 = cents(head["m0"]) if head else Decimal("0.00")
        width = _month_index(as_of) - _month_index(baseline) + 1
        if add_months(baseline, width - 1) > as_of:
            width -= 1
        values: list[float | None] = []
        for k in range(width):
            cell = cell_by.get((c_start, k))
            active = int(cell["active"]) if cell else 0
            if measure == "logo":
                values.append(ratio(active, n))
            elif measure == "grr":
                values.append(ratio(cents(cell["kept"]) if cell else 0, m0))
            else:
                values.append(ratio(cents(cell["mrr"]) if cell else 0, m0))
        out.append(CohortRow(label, c_start, baseline, acquired_by.get(c_start, 0), n, m0, values))
    return CohortTable(by, measure, as_of, out)
