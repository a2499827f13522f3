"""Retention over a window: NRR, GRR, logo retention and their composition; grouped; as series.

For a window ``[start, end)`` the cohort is the accounts active at ``start``.
Each cohort account is compared start-vs-end (:mod:`helix.metrics.movements`):
churned (zero at end), contracted, expanded or unchanged. Accounts not active
at ``start`` contribute only ``new_mrr`` (their MRR at ``end``), which never
enters NRR or GRR::

    end_mrr = start_mrr - churned_mrr - contraction_mrr + expansion_mrr   (exact, in cents)
    nrr     = end_mrr / start_mrr
    grr     = (start_mrr - churned_mrr - contraction_mrr) / start_mrr     (<= 1)
    logo_retention = 1 - accounts_churned / accounts_start
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal

import ibis
import ibis.expr.types as ir

from helix.errors import UserError
from helix.metrics.movements import (
    CHURN_TYPES,
    CONTRACTION_TYPES,
    EXPANSION_TYPES,
    Sources,
    period_movements,
)
from helix.metrics.periods import (
    Frequency,
    Period,
    add_months,
    cents,
    check_window,
    ratio,
    series_periods,
)
from helix.warehouse import Warehouse

__all__ = [
    "GroupBy",
    "RetentionWindow",
    "GroupedRetention",
    "RetentionSeries",
    "retention_window",
    "retention_by",
    "retention_series",
    "retention_for_periods",
    "summarise",
    "window_from_row",
    "WINDOW_KEYS",
]

GroupBy = Literal["segment", "owner", "product", "cohort"]
GROUPS: tuple[str, ...] = ("segment", "owner", "product", "cohort")
NO_GROUP = "(none)"

WINDOW_KEYS = (
    "start",
    "end",
    "accounts_start",
    "accounts_churned",
    "logo_retention",
    "logo_churn_rate",
    "start_mrr",
    "churned_mrr",
    "contraction_mrr",
    "expansion_mrr",
    "end_mrr",
    "new_mrr",
    "grr",
    "nrr",
    "churn_by_type",
    "expansion_by_type",
)
"""The keys of a retention window, in the order they are printed."""


@dataclass(frozen=True)
class RetentionWindow:
    """Retention of the accounts active at ``start`` over ``[start, end)``; money in cents."""

    start: date
    end: date
    accounts_start: int
    accounts_churned: int
    start_mrr: Decimal
    churned_mrr: Decimal
    contraction_mrr: Decimal
    expansion_mrr: Decimal
    end_mrr: Decimal
    new_logo_mrr: Decimal
    reactivation_mrr: Decimal
    churn_by_kind: dict[str, Decimal] = field(default_factory=dict)
    expansion_by_type: dict[str, Decimal] = field(default_factory=dict)
    contraction_by_type: dict[str, Decimal] = field(default_factory=dict)
    accounts_expanded: int = 0
    accounts_contracted: int = 0
    accounts_new: int = 0
    accounts_reactivated: int = 0

    @property
    def new_mrr(self) -> Decimal:
        """MRR at ``end`` of accounts not active at ``start`` (new logos and reactivations)."""
        return self.new_logo_mrr + self.reactivation_mrr

    @property
    def logo_retention(self) -> float | None:
        """``1 - accounts_churned / accounts_start`` (None for an empty cohort)."""
        if not self.accounts_start:
            return None
        return ratio(self.accounts_start - self.accounts_churned, self.accounts_start)

    @property
    def logo_churn_rate(self) -> float | None:
        """``accounts_churned / accounts_start`` (None for an empty cohort)."""
        return ratio(self.accounts_churned, self.accounts_start)

    @property
    def grr(self) -> float | None:
        """``(start - churned - contraction) / start`` (None when start MRR is zero)."""
        return ratio(self.start_mrr - self.churned_mrr - self.contraction_mrr, self.start_mrr)

    @property
    def nrr(self) -> float | None:
        """``(start - churned - contraction + expansion) / start`` (None when start MRR is zero)."""
        kept = self.start_mrr - self.churned_mrr - self.contraction_mrr + self.expansion_mrr
        return ratio(kept, self.start_mrr)

    @property
    def churn_by_type(self) -> dict[str, Decimal]:
        """Churned MRR by kind of churn, plus ``downgrade`` (= contraction MRR)."""
        out = {kind: self.churn_by_kind.get(kind, Decimal("0.00")) for kind in CHURN_TYPES}
        out["downgrade"] = self.contraction_mrr
        return out

    def to_dict(self, detail: bool = False) -> dict[str, Any]:
        """The window as the JSON object of ``helix metrics retention`` (keys in WINDOW_KEYS).

        With ``detail``, a ``detail`` object adds the split of ``new_mrr`` into
        new logos and reactivations, contraction by type and account counts.
        """
        out: dict[str, Any] = {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "accounts_start": self.accounts_start,
            "accounts_churned": self.accounts_churned,
            "logo_retention": self.logo_retention,
            "logo_churn_rate": self.logo_churn_rate,
            "start_mrr": self.start_mrr,
            "churned_mrr": self.churned_mrr,
            "contraction_mrr": self.contraction_mrr,
            "expansion_mrr": self.expansion_mrr,
            "end_mrr": self.end_mrr,
            "new_mrr": self.new_mrr,
            "grr": self.grr,
            "nrr": self.nrr,
            "churn_by_type": self.churn_by_type,
            "expansion_by_type": {
                t: self.expansion_by_type.get(t, Decimal("0.00")) for t in EXPANSION_TYPES
            },
        }
        if detail:
            out["detail"] = {
                "new_logo_mrr": self.new_logo_mrr,
                "reactivation_mrr": self.reactivation_mrr,
                "contraction_by_type": {
                    t: self.contraction_by_type.get(t, Decimal("0.00")) for t in CONTRACTION_TYPES
                },
                "accounts_expanded": self.accounts_expanded,
                "accounts_contracted": self.accounts_contracted,
                "accounts_new": self.accounts_new,
                "accounts_reactivated": self.accounts_reactivated,
            }
        return out


def _count(cond: ir.BooleanValue) -> ir.IntegerScalar:
    return ibis.ifelse(cond, 1, 0).sum()


def summarise(m: ir.Table, by: Sequence[str | ir.Value] = ()) -> ir.Table:
    """Aggregate per-account movements (:func:`period_movements`) into window totals.

    Grouped by ``by`` (e.g. ``period_id`` for a series). Column names match
    the fields of :class:`RetentionWindow`, with ``churn_<kind>``,
    ``exp_<type>`` and ``con_<type>`` for the compositions.
    """
    on0 = m.active_start == 1
    aggs: dict[str, ir.Value] = {
        "accounts_start": _count(on0),
        "accounts_churned": _count(m.movement == "churn"),
        "accounts_expanded": _count(m.movement == "expansion"),
        "accounts_contracted": _count(m.movement == "contraction"),
        "accounts_new": _count(m.movement == "new"),
        "accounts_reactivated": _count(m.movement == "reactivation"),
        "start_mrr": m.start_mrr.sum(where=on0),
        "churned_mrr": m.churned_mrr.sum(),
        "contraction_mrr": m.contraction_mrr.sum(),
        "expansion_mrr": m.expansion_mrr.sum(),
        "end_mrr": m.end_mrr.sum(where=on0),
        "new_logo_mrr": m.new_mrr.sum(),
        "reactivation_mrr": m.reactivation_mrr.sum(),
    }
    for kind in CHURN_TYPES:
        aggs[f"churn_{kind}"] = m.churned_mrr.sum(where=m.movement_type == kind)
    for t in EXPANSION_TYPES:
        aggs[f"exp_{t}"] = m.expansion_mrr.sum(
            where=(m.movement == "expansion") & (m.movement_type == t)
        )
    for t in CONTRACTION_TYPES:
        aggs[f"con_{t}"] = m.contraction_mrr.sum(
            where=(m.movement == "contraction") & (m.movement_type == t)
        )
    if by:
        return m.group_by(list(by)).aggregate(**aggs)
    return m.aggregate(**aggs)


def window_from_row(start: date, end: date, row: dict[str, Any] | None) -> RetentionWindow:
    """A :class:`RetentionWindow` from one row of :func:`summarise` (None = nothing happened)."""
    r = row or {}

    def n(key: str) -> int:
        return int(r.get(key) or 0)

    return RetentionWindow(
        start=start,
        end=end,
        accounts_start=n("accounts_start"),
        accounts_churned=n("accounts_churned"),
        start_mrr=cents(r.get("start_mrr")),
        churned_mrr=cents(r.get("churned_mrr")),
        contraction_mrr=cents(r.get("contraction_mrr")),
        expansion_mrr=cents(r.get("expansion_mrr")),
        end_mrr=cents(r.get("end_mrr")),
        new_logo_mrr=cents(r.get("new_logo_mrr")),
        reactivation_mrr=cents(r.get("reactivation_mrr")),
        churn_by_kind={k: cents(r.get(f"churn_{k}")) for k in CHURN_TYPES},
        expansion_by_type={t: cents(r.get(f"exp_{t}")) for t in EXPANSION_TYPES},
        contraction_by_type={t: cents(r.get(f"con_{t}")) for t in CONTRACTION_TYPES},
        accounts_expanded=n("accounts_expanded"),
        accounts_contracted=n("accounts_contracted"),
        accounts_new=n("accounts_new"),
        accounts_reactivated=n("accounts_reactivated"),
    )


def _movements(
    wh: Warehouse, periods: Sequence[Period], segment: str | None, primary_product: bool = False
) -> ir.Table:
    return period_movements(
        Sources.of(wh, segment=segment), periods, primary_product=primary_product
    )


def retention_window(
    wh: Warehouse, start: date, end: date, *, segment: str | None = None
) -> RetentionWindow:
    """Retention over ``[start, end)`` of the accounts active at ``start`` (in ``segment``)."""
    check_window(start, end)
    m = _movements(wh, [Period(start, end)], segment)
    rows = summarise(m).to_pyarrow().to_pylist()
    return window_from_row(start, end, rows[0] if rows else None)


@dataclass(frozen=True)
class GroupedRetention:
    """A window's retention in total and per group (segment, owner, product or cohort)."""

    by: str
    total: RetentionWindow
    groups: dict[str, RetentionWindow]

    def to_dict(self, detail: bool = False) -> dict[str, Any]:
        """``{"by", "total", "groups": {name: window}}``."""
        return {
            "by": self.by,
            "total": self.total.to_dict(detail),
            "groups": {k: v.to_dict(detail) for k, v in self.groups.items()},
        }


def _group_key(m: ir.Table, by: str, accounts: ir.Table | None) -> tuple[ir.Table, ir.Value]:
    if by == "product":
        return m, ibis.coalesce(m.product_start, m.product_end, ibis.literal(NO_GROUP))
    if by == "cohort":
        fs = m.first_start
        label = fs.year().cast("string") + ibis.literal("-Q") + fs.quarter().cast("string")
        return m, ibis.coalesce(label, ibis.literal(NO_GROUP))
    if accounts is None:
        return m, ibis.literal(NO_GROUP)
    column = "segment" if by == "segment" else "owner_email"
    acc = accounts.select(g_account=accounts.account_id, g_value=accounts[column])
    joined = m.left_join(acc, m.account_id == acc.g_account).drop("g_account")
    return joined, ibis.coalesce(joined.g_value, ibis.literal(NO_GROUP))


def retention_by(
    wh: Warehouse, start: date, end: date, by: GroupBy, *, segment: str | None = None
) -> GroupedRetention:
    """Retention over ``[start, end)`` per ``by`` group, with the total.

    Groups: ``segment`` and ``owner`` (the account's ``segment`` / ``owner_email``),
    ``product`` (the account's largest product line at ``start``, or at ``end``
    for accounts not active at start), ``cohort`` (quarter of the account's
    first positive MRR, e.g. ``2023-Q2``). Accounts without a value fall in
    ``(none)``. Groups partition the accounts, so they add up to the total.
    """
    if by not in GROUPS:
        raise UserError(f"cannot group retention by {by!r}", hint=f"use one of {', '.join(GROUPS)}")
    check_window(start, end)
    src = Sources.of(wh, segment=segment)
    m = period_movements(src, [Period(start, end)], primary_product=by == "product")
    total_rows = summarise(m).to_pyarrow().to_pylist()
    keyed, key = _group_key(m, by, src.accounts)
    keyed = keyed.mutate(group_name=key)
    rows = summarise(keyed, ["group_name"]).to_pyarrow().to_pylist()
    groups = {
        str(r["group_name"]): window_from_row(start, end, r)
        for r in sorted(rows, key=lambda r: str(r["group_name"]))
    }
    total = window_from_row(start, end, total_rows[0] if total_rows else None)
    return GroupedRetention(by, total, groups)


@dataclass(frozen=True)
class RetentionSeries:
    """Consecutive (or trailing) windows: monthly, quarterly or trailing twelve months."""

    frequency: str
    windows: list[tuple[str, RetentionWindow]]

    def to_dict(self, detail: bool = False) -> dict[str, Any]:
        """``{"series", "from", "to", "windows": [{"period", ...window}]}``."""
        return {
            "series": self.frequency,
            "from": self.windows[0][1].start.isoformat() if self.windows else None,
            "to": self.windows[-1][1].end.isoformat() if self.windows else None,
            "windows": [{"period": label, **w.to_dict(detail)} for label, w in self.windows],
        }


def _ledger_months(
    wh: Warehouse, periods: Sequence[Period], segment: str | None
) -> ir.Table | None:
    """The stored ledger's rows for ``periods``, when every one is a calendar month
    the ledger holds and the ledger is current (see ``stored_ledger``); else None.

    A ledger row is :func:`period_movements` over its month, so reading it gives
    the same figures as computing them again.
    """
    if not all(p.start.day == 1 and p.end == add_months(p.start, 1) for p in periods):
        return None
    from helix.metrics.stage import stored_ledger  # (the stage module imports the pipeline)

    found = stored_ledger(wh)
    if found is None or max(p.end for p in periods) > found[1]:
        return None
    led = found[0]
    months = ibis.memtable(
        {"l_month": [p.start for p in periods], "period_id": list(range(len(periods)))}
    )
    m = led.join(months, led.month == months.l_month).drop("l_month")
    if segment is not None:
        acc = wh.table("accounts")
        m = m.semi_join(acc.filter(acc.segment == segment).select("account_id"), "account_id")
    return m


def retention_for_periods(
    wh: Warehouse,
    periods: Sequence[Period],
    *,
    segment: str | None = None,
    use_ledger: bool = True,
) -> list[RetentionWindow]:
    """Retention over each of ``periods`` (any windows, overlapping or not), in one query.

    Calendar months are read from the stored ledger when it is current (unless
    ``use_ledger`` is false); other windows are computed from the subscriptions.
    """
    if not periods:
        return []
    m = _ledger_months(wh, periods, segment) if use_ledger else None
    if m is None:
        m = _movements(wh, periods, segment)
    rows = {r["period_id"]: r for r in summarise(m, ["period_id"]).to_pyarrow().to_pylist()}
    return [window_from_row(p.start, p.end, rows.get(i)) for i, p in enumerate(periods)]


def retention_series(
    wh: Warehouse,
    frequency: Frequency,
    first: date,
    last: date,
    *,
    segment: str | None = None,
    use_ledger: bool = True,
) -> RetentionSeries:
    """Retention for each period starting between ``first`` and ``last`` (see ``series_periods``).

    All windows are computed in one warehouse query (monthly ones read from the
    stored ledger when it is current, see :func:`retention_for_periods`).
    """
    periods = series_periods(frequency, first, last)
    windows = retention_for_periods(wh, periods, segment=segment, use_ledger=use_ledger)
    return RetentionSeries(frequency, [(p.label, w) for p, w in zip(periods, windows, strict=True)])
