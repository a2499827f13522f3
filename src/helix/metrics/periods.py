"""Dates, windows and money helpers shared by the metrics modules.

A *window* (or *period*) is half-open, ``[start, end)``: it begins on the
morning of ``start`` and ends on the morning of ``end``. MRR is measured at
the two instants ``start`` and ``end`` (see :mod:`helix.metrics.movements`).

Money in results is :class:`~decimal.Decimal` rounded to the cent, half up
(the same rule the warehouse's ``ROUND(x, 2)`` applies to non-negative
amounts on DuckDB and PostgreSQL). Rates are plain fractions (``0.93``).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from helix.errors import UserError

__all__ = [
    "CENT",
    "Frequency",
    "Period",
    "WindowError",
    "add_months",
    "cents",
    "month_start",
    "quarter_start",
    "period_start",
    "ratio",
    "check_window",
    "periods_table",
    "series_periods",
    "month_periods",
    "period_label",
]

CENT = Decimal("0.01")

Frequency = Literal["monthly", "quarterly", "t12m"]


class WindowError(UserError):
    """A window or date range that cannot be measured (start not before end, bad range)."""

    def __init__(self, message: str, *, start: date | None = None, end: date | None = None) -> None:
        super().__init__(message, hint="give a start date strictly before the end date")
        self.start = start
        self.end = end


def cents(value: Decimal | int | float | str | None) -> Decimal:
    """``value`` as an amount of money rounded to the cent, half up (``None`` is zero)."""
    if value is None:
        return Decimal("0.00")
    if isinstance(value, float):
        value = repr(value)
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def ratio(numerator: Decimal | int, denominator: Decimal | int) -> float | None:
    """``numerator / denominator`` as a float, or ``None`` when the denominator is zero."""
    if not denominator:
        return None
    return float(Decimal(numerator) / Decimal(denominator))


def month_start(day: date) -> date:
    """First day of the month of ``day``."""
    return day.replace(day=1)


def quarter_start(day: date) -> date:
    """First day of the calendar quarter of ``day``."""
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` calendar months, clamped to the end of shorter months."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def period_start(day: date, by: Literal["month", "quarter"]) -> date:
    """Start of the month or quarter holding ``day``."""
    return month_start(day) if by == "month" else quarter_start(day)


def period_label(start: date, by: Literal["month", "quarter"]) -> str:
    """``2024-03`` for a month, ``2024-Q1`` for a quarter."""
    if by == "month":
        return f"{start.year:04d}-{start.month:02d}"
    return f"{start.year:04d}-Q{(start.month - 1) // 3 + 1}"


def check_window(start: date, end: date) -> None:
    """Raise :class:`WindowError` unless ``start < end``."""
    if not start < end:
        raise WindowError(
            f"the window [{start.isoformat()}, {end.isoformat()}) is empty", start=start, end=end
        )


@dataclass(frozen=True)
class Period:
    """One measurement window ``[start, end)`` with a label for reports."""

    start: date
    end: date
    label: str = ""

    def __post_init__(self) -> None:
        check_window(self.start, self.end)


def month_periods(first: date, as_of: date) -> list[Period]:
    """Calendar months from the month of ``first`` up to ``as_of``, the last one cut at ``as_of``.

    Every month that starts before ``as_of`` is included; its window ends at the
    next month's first day or at ``as_of``, whichever comes first.
    """
    periods: list[Period] = []
    current = month_start(first)
    while current < as_of:
        nxt = add_months(current, 1)
        periods.append(Period(current, min(nxt, as_of), period_label(current, "month")))
        current = nxt
    return periods


def series_periods(frequency: Frequency, first: date, last: date) -> list[Period]:
    """The windows of a series whose periods start between ``first`` and ``last`` (inclusive).

    ``monthly``: calendar months; ``quarterly``: calendar quarters; ``t12m``: for
    each month M, the twelve months ending with M (``[M - 11 months, M + 1 month)``),
    labelled by M. ``first`` is rounded down to the start of its month or quarter.
    """
    if last < first:
        raise WindowError(
            f"the series range {first.isoformat()} .. {last.isoformat()} is empty",
            start=first,
            end=last,
        )
    out: list[Period] = []
    if frequency == "quarterly":
        current = quarter_start(first)
        while current <= last:
            out.append(Period(current, add_months(current, 3), period_label(current, "quarter")))
            current = add_months(current, 3)
        return out
    current = month_start(first)
    while current <= last:
        if frequency == "monthly":
            out.append(Period(current, add_months(current, 1), period_label(current, "month")))
        elif frequency == "t12m":
            label = period_label(current, "month")
            out.append(Period(add_months(current, -11), add_months(current, 1), label))
        else:
            raise WindowError(f"unknown series frequency {frequency!r}")
        current = add_months(current, 1)
    return out


def periods_table(periods: Sequence[Period] | Iterable[Period]) -> ir.Table:
    """An Ibis table ``(period_id, period_start, period_end)`` for ``periods`` (ids from 0)."""
    items = list(periods)
    data = pa.table(
        {
            "period_id": pa.array(range(len(items)), pa.int64()),
            "period_start": pa.array([p.start for p in items], pa.date32()),
            "period_end": pa.array([p.end for p in items], pa.date32()),
        }
    )
    return ibis.memtable(data)
