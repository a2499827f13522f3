"""The engine: per-account MRR movements over any set of windows, as one Ibis expression.

Everything else in :mod:`helix.metrics` (the monthly ledger, window metrics,
series, cohorts) is built on :func:`period_movements`. The rules, in the
order they are applied (``docs/metrics.md`` states them for auditors):

1. **MRR at an instant t** of an account is the sum of ``mrr`` over its
   subscription rows with ``start_date <= t < end_date`` (null end = ongoing).
   Rows with ``mrr = 0`` contribute nothing and are ignored throughout.
   The account is *active* at t when that exact sum is > 0.
2. For a window ``[start, end)`` each account gets its MRR at ``start`` (m0)
   and at ``end`` (m1), each rounded to the cent, half up. Only the two
   instants count: a change that is undone inside the window leaves no trace.
3. The movement of the account over the window is one of:
   ``new`` (inactive at start, active at end, no earlier positive row),
   ``reactivation`` (the same, but it had positive MRR before ``start``),
   ``churn`` (active at start, inactive at end), ``expansion`` / ``contraction``
   (active at both, end above / below start) or ``none``.
4. Expansion and contraction are attributed to one *driver*, the product line
   whose change moves most in the direction of the account's net change
   (ties: cross-sell / product dropped, then tier, seats, usage/price, then
   product name). Per product line: added = ``cross_sell``; removed =
   ``product_dropped``; plan set changed = ``tier``; quantity changed at the
   same price per unit = ``seats``; anything else = ``usage_price``.
5. A churn is typed by the account's ``churn_reasons`` record nearest to the
   churn date (within 90 days either side), else ``involuntary`` when a payment
   failed in the 90 days up to the churn date with no later successful one,
   else ``unknown``. The churn date is when the account's MRR last fell to zero
   inside the window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pyarrow as pa

from helix.metrics.periods import Period, periods_table
from helix.warehouse import Warehouse

__all__ = [
    "Sources",
    "positive_rows",
    "account_snapshots",
    "period_movements",
    "monthly_movements",
    "first_positive_start",
    "MOVEMENTS",
    "EXPANSION_TYPES",
    "CONTRACTION_TYPES",
    "CHURN_TYPES",
    "CHURN_REASON_MATCH_DAYS",
    "FAILED_PAYMENT_LOOKBACK_DAYS",
    "ACCOUNT_MRR",
    "to_cents",
]

FAR_FUTURE = date(9999, 12, 31)
"""Stands in for a null (ongoing) end date inside range joins."""

MOVEMENTS = ("new", "reactivation", "expansion", "contraction", "churn", "none")
EXPANSION_TYPES = ("seats", "tier", "cross_sell", "usage_price")
CONTRACTION_TYPES = ("seats", "tier", "product_dropped", "usage_price")
CHURN_TYPES = ("voluntary", "involuntary", "unknown")

CHURN_REASON_MATCH_DAYS = 90
"""A churn_reasons record explains a churn when recorded within this many days of it."""

FAILED_PAYMENT_LOOKBACK_DAYS = 90
"""A failed payment this many days before a churn (or fewer) makes it involuntary."""

_PRECEDENCE = {"cross_sell": 0, "product_dropped": 0, "tier": 1, "seats": 2, "usage_price": 3}
_QTY = dt.Decimal(38, 6)  # a * q is then DECIMAL(38, 12): exact up to 10^26
ACCOUNT_MRR = dt.Decimal(18, 6)
"""Type of an account's summed MRR: exact, and fast (64-bit) on DuckDB; an account's
MRR must stay below 10^12 (a larger value is an overflow error, never a wrong number)."""


def to_cents(amount: ir.NumericValue) -> ir.NumericValue:
    """An exact amount rounded to the cent, half up (via :data:`ACCOUNT_MRR`)."""
    return amount.cast(ACCOUNT_MRR).round(2)


@dataclass(frozen=True)
class Sources:
    """The warehouse tables the metrics read, optionally narrowed to some accounts."""

    subscriptions: ir.Table
    churn_reasons: ir.Table | None = None
    payments: ir.Table | None = None
    accounts: ir.Table | None = None

    @classmethod
    def of(
        cls,
        wh: Warehouse,
        *,
        segment: str | None = None,
        account_id: str | None = None,
    ) -> Sources:
        """Read the tables of ``wh``; keep only accounts in ``segment`` and/or ``account_id``."""
        subs = wh.table("subscriptions")
        accounts = wh.table("accounts") if wh.has_table("accounts") else None
        reasons = wh.table("churn_reasons") if wh.has_table("churn_reasons") else None
        payments = wh.table("payments") if wh.has_table("payments") else None
        if segment is not None:
            if accounts is None:
                subs = subs.filter(ibis.literal(False))
            else:
                chosen = accounts.filter(accounts.segment == segment).select("account_id")
                subs = subs.semi_join(chosen, "account_id")
        if account_id is not None:
            subs = subs.filter(subs.account_id == account_id)
        return cls(subs, reasons, payments, accounts)


def positive_rows(subs: ir.Table) -> ir.Table:
    """Subscription rows with ``mrr > 0``, the end date of ongoing rows set far in the future."""
    s = subs.filter(subs.mrr > 0)
    return s.select(
        account_id=s.account_id,
        product=s.product,
        plan=s.plan,
        start_date=s.start_date,
        end_date=ibis.coalesce(s.end_date, ibis.date(FAR_FUTURE)),
        mrr=s.mrr,
        quantity=s.quantity,
    )


def first_positive_start(rows: ir.Table) -> ir.Table:
    """``(account_id, first_start)``: the first day each account had positive MRR."""
    return rows.group_by("account_id").aggregate(first_start=rows.start_date.min())


def account_snapshots(rows: ir.Table, bounds: ir.Table) -> ir.Table:
    """``(account_id, b, mrr)``: each account's exact MRR at each instant of ``bounds`` (if > 0).

    ``rows`` comes from :func:`positive_rows`; ``bounds`` has one date column ``b``.
    """
    j = rows.join(bounds, [rows.start_date <= bounds.b, rows.end_date > bounds.b])
    return j.group_by(["account_id", "b"]).aggregate(mrr=j.mrr.sum())


def _period_tables(periods: Sequence[Period]) -> tuple[ir.Table, ir.Table, ir.Table]:
    """``periods`` as Ibis tables: windows, distinct instants, (instant, window, side).

    Side 0 is a window's start instant, side 1 its end instant; consecutive
    months share an instant, which then appears once per side it plays.
    """
    items = list(periods)
    instants = sorted({d for p in items for d in (p.start, p.end)})
    sides = pa.table(
        {
            "b": pa.array([d for p in items for d in (p.start, p.end)], pa.date32()),
            "period_id": pa.array([i for i in range(len(items)) for _ in (0, 1)], pa.int64()),
            "side": pa.array([k for _ in items for k in (0, 1)], pa.int8()),
        }
    )
    bounds = ibis.memtable(pa.table({"b": pa.array(instants, pa.date32())}))
    return periods_table(items), bounds, ibis.memtable(sides)


def _account_states(
    rows: ir.Table, bounds: ir.Table, sides: ir.Table, first_starts: ir.Table | None = None
) -> ir.Table:
    """``(account_id, period_id, m0, m1, first_start)``: exact MRR at each window's
    two instants, and the account's first day with positive MRR.

    Subscription rows meet the windows' instants directly, so one aggregation
    gives both ends (summing per instant first, then pairing instants into
    windows, takes two).
    """
    # each row carries its account's first positive start, so that telling a new
    # account from a returning one needs no join on the (large) result
    first = (first_starts if first_starts is not None else first_positive_start(rows)).rename(
        f_account="account_id"
    )
    rows = rows.join(first, rows.account_id == first.f_account).drop("f_account")
    j = rows.join(sides, [rows.start_date <= sides.b, rows.end_date > sides.b])
    g = j.group_by(["account_id", "period_id"]).aggregate(
        m0=j.mrr.sum(where=j.side == 0),
        m1=j.mrr.sum(where=j.side == 1),
        first_start=j.first_start.min(),
    )
    return g.mutate(m0=g.m0.fill_null(0).cast(ACCOUNT_MRR), m1=g.m1.fill_null(0).cast(ACCOUNT_MRR))


def _component_type(c: ir.Table) -> ir.StringValue:
    """What kind of change one product line of one account made over a period."""
    plan_same = c.plo0.identical_to(c.plo1) & c.phi0.identical_to(c.phi1)
    same_unit_price = c.a0.cast(_QTY) * c.q1.cast(_QTY) == c.a1.cast(_QTY) * c.q0.cast(_QTY)
    seats = (c.q0 > 0) & (c.q1 > 0) & (c.q0 != c.q1) & same_unit_price.fill_null(False)
    return ibis.cases(
        ((c.a0 == 0) & (c.a1 > 0), "cross_sell"),
        ((c.a0 > 0) & (c.a1 == 0), "product_dropped"),
        (c.a0 == c.a1, "none"),
        (~plan_same, "tier"),
        (seats, "seats"),
        else_="usage_price",
    )


def _drivers(rows: ir.Table, changed: ir.Table, sides: ir.Table) -> ir.Table:
    """``(d_account, d_period, driver)`` for account-periods whose MRR changed while active.

    Only those account-periods are looked at product line by product line.
    ``changed`` has ``account_id, period_id, up`` (up: the net change is positive).
    """
    need = changed.join(sides, "period_id")
    j = rows.join(
        need,
        [rows.account_id == need.account_id, rows.start_date <= need.b, rows.end_date > need.b],
    )
    s0, s1 = j.side == 0, j.side == 1
    g = j.group_by([need.account_id, need.period_id, need.up, rows.product]).aggregate(
        a0=j.mrr.sum(where=s0),
        q0=j.quantity.sum(where=s0),
        n0=ibis.ifelse(s0, 1, 0).sum(),
        nq0=j.quantity.count(where=s0),
        plo0=j.plan.min(where=s0),
        phi0=j.plan.max(where=s0),
        a1=j.mrr.sum(where=s1),
        q1=j.quantity.sum(where=s1),
        n1=ibis.ifelse(s1, 1, 0).sum(),
        nq1=j.quantity.count(where=s1),
        plo1=j.plan.min(where=s1),
        phi1=j.plan.max(where=s1),
    )
    none_qty = ibis.null().cast(g.q0.type())
    c = g.mutate(
        a0=g.a0.fill_null(0),
        a1=g.a1.fill_null(0),
        q0=ibis.ifelse(g.n0 == g.nq0, g.q0, none_qty),
        q1=ibis.ifelse(g.n1 == g.nq1, g.q1, none_qty),
    )
    c = c.mutate(ctype=_component_type(c), delta=c.a1 - c.a0)
    c = c.mutate(
        toward=ibis.ifelse(c.up, c.delta, -c.delta),
        precedence=ibis.cases(*((c.ctype == k, v) for k, v in _PRECEDENCE.items()), else_=9),
    )
    c = c.mutate(
        rk=ibis.row_number().over(
            group_by=[c.account_id, c.period_id],
            order_by=[ibis.desc(c.toward), c.precedence, c.product],
        )
    )
    top = c.filter(c.rk == 0)
    return top.select(d_account=top.account_id, d_period=top.period_id, driver=top.ctype)


def _primary_products(rows: ir.Table, bounds: ir.Table, sides: ir.Table) -> ir.Table:
    """``(p_account, p_period, product_start, product_end)``: largest product line at each end."""
    j = rows.join(bounds, [rows.start_date <= bounds.b, rows.end_date > bounds.b])
    snap = j.group_by(["account_id", "product", "b"]).aggregate(mrr=j.mrr.sum())
    k = snap.join(sides, "b")
    k = k.mutate(
        rk=ibis.row_number().over(
            group_by=[k.account_id, k.period_id, k.side], order_by=[ibis.desc(k.mrr), k.product]
        )
    )
    top = k.filter(k.rk == 0)
    g = top.group_by(["account_id", "period_id"]).aggregate(
        product_start=top.product.max(where=top.side == 0),
        product_end=top.product.max(where=top.side == 1),
    )
    return g.rename(p_account="account_id", p_period="period_id")


def _evidence(src: Sources) -> ir.Table | None:
    """Dated facts that can explain a churn: recorded churn types and payment outcomes."""
    parts = []
    if src.churn_reasons is not None:
        cr = src.churn_reasons
        parts.append(cr.select(e_account=cr.account_id, e_date=cr.churned_on, e_kind=cr.churn_type))
    if src.payments is not None:
        p = src.payments.filter(src.payments.status.isin(["failed", "paid"]))
        parts.append(p.select(e_account=p.account_id, e_date=p.due_date, e_kind=p.status))
    if not parts:
        return None
    out = parts[0]
    for part in parts[1:]:
        out = out.union(part)
    return out


def _churn_types(churned: ir.Table, rows: ir.Table, src: Sources) -> ir.Table:
    """``(c_account, c_period, churn_date, churn_type)`` for churned account-periods.

    The nearest churn_reasons record wins; at equal distance the later one, and
    between two kinds on the same day, ``involuntary``. This is computed as a
    minimum of ``2 * distance_in_days + (1 if recorded before the churn)`` per kind.
    """
    r = rows.select(r_account=rows.account_id, r_start=rows.start_date, r_end=rows.end_date)
    j = churned.join(r, [churned.account_id == r.r_account, r.r_start < churned.period_end])
    dates = j.group_by(["account_id", "period_id"]).aggregate(churn_date=j.r_end.max())
    ev = _evidence(src)
    if ev is None:
        return dates.select(
            c_account=dates.account_id,
            c_period=dates.period_id,
            churn_date=dates.churn_date,
            churn_type=ibis.literal("unknown"),
        )
    reach = max(CHURN_REASON_MATCH_DAYS, FAILED_PAYMENT_LOOKBACK_DAYS)
    m = dates.join(
        ev,
        [
            dates.account_id == ev.e_account,
            ev.e_date >= dates.churn_date - ibis.interval(days=reach),
            ev.e_date <= dates.churn_date + ibis.interval(days=reach),
        ],
    )
    dist = m.e_date.delta(m.churn_date, unit="day").abs()
    key = dist * 2 + ibis.ifelse(m.e_date < m.churn_date, 1, 0)
    recorded = dist <= CHURN_REASON_MATCH_DAYS
    paid_window = (m.e_date <= m.churn_date) & (dist <= FAILED_PAYMENT_LOOKBACK_DAYS)
    agg = m.group_by(["account_id", "period_id"]).aggregate(
        vol=key.min(where=recorded & (m.e_kind == "voluntary")),
        inv=key.min(where=recorded & (m.e_kind == "involuntary")),
        last_failed=m.e_date.max(where=paid_window & (m.e_kind == "failed")),
        last_paid=m.e_date.max(where=paid_window & (m.e_kind == "paid")),
    )
    agg = agg.rename(a_account="account_id", a_period="period_id")
    out = dates.left_join(agg, [dates.account_id == agg.a_account, dates.period_id == agg.a_period])
    failed = out.last_failed.notnull() & (
        out.last_paid.isnull() | (out.last_paid < out.last_failed)
    )
    churn_type = ibis.cases(
        (out.vol.notnull() & (out.inv.isnull() | (out.vol < out.inv)), "voluntary"),
        (out.inv.notnull(), "involuntary"),
        (failed, "involuntary"),
        else_="unknown",
    )
    return out.select(
        c_account=out.account_id,
        c_period=out.period_id,
        churn_date=out.churn_date,
        churn_type=churn_type,
    )


def period_movements(
    src: Sources,
    periods: Sequence[Period],
    *,
    primary_product: bool = False,
    first_starts: ir.Table | None = None,
) -> ir.Table:
    """Every account's movement over every window of ``periods``.

    One row per account and period in which the account was active at the
    start or at the end, with columns ``account_id, period_id, period_start,
    period_end, active_start, active_end, start_mrr, end_mrr, movement,
    movement_type, new_mrr, reactivation_mrr, expansion_mrr, contraction_mrr,
    churned_mrr, churn_date, first_start`` (money rounded to the cent;
    ``period_id`` is the index in ``periods``; ``first_start`` is the
    account's first day with positive MRR), plus ``product_start`` and
    ``product_end`` (largest product line at each end) when ``primary_product``.
    ``first_starts`` (:func:`first_positive_start` of the same subscriptions,
    stored) saves recomputing it when many queries need it.
    The amounts satisfy ``start + new + reactivation + expansion - contraction
    - churned = end`` on every row.
    """
    if not periods:
        raise ValueError("period_movements needs at least one period")
    rows = positive_rows(src.subscriptions)
    windows, bounds, sides = _period_tables(periods)
    acct = _account_states(rows, bounds, sides, first_starts)
    acct = acct.join(windows, "period_id")
    if primary_product:
        prim = _primary_products(rows, bounds, sides)
        acct = acct.left_join(
            prim, [acct.account_id == prim.p_account, acct.period_id == prim.p_period]
        ).drop("p_account", "p_period")
    return _classify(acct, rows, sides, src, primary_product=primary_product)


def _classify(
    acct: ir.Table, rows: ir.Table, sides: ir.Table, src: Sources, *, primary_product: bool
) -> ir.Table:
    """The movement columns of :func:`period_movements` from the exact MRR at both ends.

    ``acct`` has ``account_id, period_id, period_start, period_end, m0, m1,
    first_start`` (``first_start`` is only read where ``m0 = 0 < m1``).
    """
    s0 = to_cents(acct.m0)
    s1 = to_cents(acct.m1)
    on0 = acct.m0 > 0
    on1 = acct.m1 > 0
    movement = ibis.cases(
        (~on0 & on1 & (acct.first_start < acct.period_start), "reactivation"),
        (~on0 & on1, "new"),
        (on0 & ~on1, "churn"),
        (on0 & on1 & (s1 > s0), "expansion"),
        (on0 & on1 & (s1 < s0), "contraction"),
        else_="none",
    )
    zero = ibis.literal(0).cast(s0.type())
    acct = acct.mutate(
        active_start=ibis.ifelse(on0, 1, 0).cast("int8"),
        active_end=ibis.ifelse(on1, 1, 0).cast("int8"),
        start_mrr=s0,
        end_mrr=s1,
        movement=movement,
    )
    # Drivers and churn types concern few account-periods: they are joined onto
    # those rows only, and the rest pass through untouched (a join on every row
    # costs more than the union).
    moved = acct.filter(acct.movement.isin(["expansion", "contraction"]))
    drivers = _drivers(rows, moved.select("account_id", "period_id", up=moved.m1 > moved.m0), sides)
    moved = moved.left_join(
        drivers, [moved.account_id == drivers.d_account, moved.period_id == drivers.d_period]
    ).drop("d_account", "d_period")
    moved = moved.mutate(
        movement_type=moved.driver,
        churn_date=ibis.null().cast("date"),
    ).drop("driver")
    churned = acct.filter(acct.movement == "churn")
    ctypes = _churn_types(churned.select("account_id", "period_id", "period_end"), rows, src)
    churned = churned.left_join(
        ctypes, [churned.account_id == ctypes.c_account, churned.period_id == ctypes.c_period]
    ).drop("c_account", "c_period")
    churned = churned.rename(movement_type="churn_type")
    rest = acct.filter(~acct.movement.isin(["expansion", "contraction", "churn"])).mutate(
        movement_type=ibis.null().cast("string"), churn_date=ibis.null().cast("date")
    )
    columns = rest.columns
    acct = ibis.union(rest, moved.select(*columns), churned.select(*columns))
    mv = acct.movement
    movement_type = acct.movement_type
    cols: dict[str, ir.Value] = {
        "account_id": acct.account_id,
        "period_id": acct.period_id,
        "period_start": acct.period_start,
        "period_end": acct.period_end,
        "active_start": acct.active_start,
        "active_end": acct.active_end,
        "start_mrr": acct.start_mrr,
        "end_mrr": acct.end_mrr,
        "movement": mv,
        "movement_type": movement_type,
        "new_mrr": ibis.ifelse(mv == "new", acct.end_mrr, zero),
        "reactivation_mrr": ibis.ifelse(mv == "reactivation", acct.end_mrr, zero),
        "expansion_mrr": ibis.ifelse(mv == "expansion", acct.end_mrr - acct.start_mrr, zero),
        "contraction_mrr": ibis.ifelse(mv == "contraction", acct.start_mrr - acct.end_mrr, zero),
        "churned_mrr": ibis.ifelse(mv == "churn", acct.start_mrr, zero),
        "churn_date": acct.churn_date,
        "first_start": acct.first_start,
    }
    if primary_product:
        cols["product_start"] = acct.product_start
        cols["product_end"] = acct.product_end
    return acct.select(**cols)


def _instant_index(day: ir.DateValue, first: date, last: date, n: int) -> ir.IntegerValue:
    """Index of the first instant on or after ``day`` among month instants.

    The instants are the first days of consecutive months from ``first`` (index
    0), then ``last`` (index ``n``, on or before the next first day). Days
    before ``first`` give 0; days after ``last`` give ``n + 1`` (no instant).
    """
    months = day.year() * 12 + day.month() - (first.year * 12 + first.month)
    index = months + ibis.ifelse(day.day() > 1, 1, 0)
    return ibis.cases(
        (day > ibis.literal(last), n + 1),
        (index < 0, 0),
        (index > n, n),
        else_=index,
    )


def _check_month_chain(periods: Sequence[Period]) -> None:
    for i, p in enumerate(periods):
        last = i == len(periods) - 1
        if p.start.day != 1 or (i and periods[i - 1].end != p.start):
            raise ValueError("monthly_movements needs consecutive calendar months")
        if not last and p.end.day != 1:
            raise ValueError("only the last month of monthly_movements may be cut short")


def _monthly_states(rows: ir.Table, periods: Sequence[Period], first_starts: ir.Table) -> ir.Table:
    """``(account_id, period_id, m0, m1, first_start)`` over consecutive months, from change points.

    Each subscription row adds its MRR at the first instant it is in force and
    takes it away at the first instant it no longer is. Summed per account and
    instant, and accumulated in time order, these changes give the account's
    MRR from each change point to the next. A month whose closing instant is a
    change point gets its two ends from there (before = after - change); every
    other month an account is active in has the same MRR at both ends and
    comes from a join of the constant stretches with the months. This does the
    work of :func:`_account_states` without matching every row with every
    instant it covers.
    """
    n = len(periods)
    first, last = periods[0].start, periods[-1].end
    exact = rows.mutate(
        i0=_instant_index(rows.start_date, first, last, n),
        i1=_instant_index(rows.end_date, first, last, n),
        amount=rows.mrr.cast(ACCOUNT_MRR),
    )
    live = exact.filter(exact.i0 < exact.i1)
    ups = live.select("account_id", i=live.i0, d=live.amount)
    downs = live.filter(live.i1 <= n).select("account_id", i=live.i1, d=-live.amount)
    steps = ups.union(downs)
    points = steps.group_by(["account_id", "i"]).aggregate(d=steps.d.sum())
    so_far = ibis.cumulative_window(group_by=points.account_id, order_by=points.i)
    w = ibis.window(group_by=points.account_id, order_by=points.i)
    points = points.mutate(
        v=points.d.sum().over(so_far).cast(ACCOUNT_MRR),
        next_i=points.i.lead().over(w),
    )
    typed = ibis.null().cast("date")
    changes = points.filter((points.i >= 1) & ((points.v > 0) | (points.v != points.d)))
    changes = changes.select(
        account_id=changes.account_id,
        period_id=(changes.i - 1).cast("int64"),
        m0=(changes.v - changes.d).cast(ACCOUNT_MRR),
        m1=changes.v,
    )
    # new or returning only matters where an account turns active
    first = first_starts.rename(f_account="account_id")
    starts = changes.filter((changes.m0 == 0) & (changes.m1 > 0))
    starts = starts.join(first, starts.account_id == first.f_account).drop("f_account")
    others = changes.filter(~((changes.m0 == 0) & (changes.m1 > 0))).mutate(first_start=typed)
    months = ibis.memtable(pa.table({"period_id": pa.array(range(n), pa.int64())}))
    flat = points.filter(points.v > 0)
    flat = flat.mutate(stop=ibis.coalesce(flat.next_i, n + 1) - 2)
    steady = flat.join(months, [months.period_id >= flat.i, months.period_id <= flat.stop])
    steady = steady.select(
        account_id=steady.account_id,
        period_id=steady.period_id,
        m0=steady.v,
        m1=steady.v,
        first_start=typed,
    )
    return ibis.union(steady, others, starts.select(*others.columns))


def monthly_movements(
    src: Sources, periods: Sequence[Period], *, first_starts: ir.Table | None = None
) -> ir.Table:
    """:func:`period_movements` over consecutive calendar months, computed faster.

    ``periods`` must be calendar months one after another (the last may end
    early, as :func:`~helix.metrics.periods.month_periods` cuts it at the
    as-of date). The result has the same rows and columns, except that
    ``first_start`` is only filled on rows whose movement is ``new`` or
    ``reactivation``. Tests check both functions agree.
    """
    if not periods:
        raise ValueError("monthly_movements needs at least one period")
    _check_month_chain(periods)
    rows = positive_rows(src.subscriptions)
    windows, _bounds, sides = _period_tables(periods)
    first = first_starts if first_starts is not None else first_positive_start(rows)
    acct = _monthly_states(rows, periods, first).join(windows, "period_id")
    return _classify(acct, rows, sides, src, primary_product=False)
