"""The simulation's month grid and day arithmetic.

The simulation steps through calendar months. Month ``k`` runs from
``month_start[k]`` for ``month_len[k]`` days; the last month is cut at the
(exclusive) end date. The first ``burn`` months are simulated before the
history window (so the installed base has a subscription history) but emit no
activity. Days are integers counted from 1970-01-01, as numpy ``datetime64[D]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

EPOCH = date(1970, 1, 1)
DAY_MS = 86_400_000
BURN_MONTHS = 48
"""Months simulated before the history window (the installed base's past)."""


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` calendar months, clipped to the end of the target month."""
    index = day.year * 12 + day.month - 1 + months
    year, month0 = divmod(index, 12)
    first_next = date(year + (month0 + 1) // 12, (month0 + 1) % 12 + 1, 1)
    last_day = (first_next - timedelta(days=1)).day
    return date(year, month0 + 1, min(day.day, last_day))


def to_day(value: date) -> int:
    """Days since 1970-01-01."""
    return (value - EPOCH).days


def from_day(day: int) -> date:
    """The date ``day`` days after 1970-01-01."""
    return EPOCH + timedelta(days=int(day))


@dataclass(frozen=True)
class Calendar:
    """Month grid of one generation run: ``burn`` months of past, then the window."""

    end: date
    months: int
    burn: int
    month_start: np.ndarray  # int64 day numbers, shape (T,)
    month_len: np.ndarray  # int64 days in each month, the last one cut at ``end``
    month_full_len: np.ndarray  # int64 days in each calendar month (the last one uncut)
    month_of_year: np.ndarray  # 1..12

    @classmethod
    def build(cls, end: date, months: int, burn: int = BURN_MONTHS) -> Calendar:
        """The grid of ``burn + months`` months whose last month contains ``end - 1 day``."""
        last_day = end - timedelta(days=1)
        first = add_months(last_day.replace(day=1), -(months + burn - 1))
        starts = [add_months(first, k) for k in range(months + burn + 1)]
        start_days = np.array([to_day(d) for d in starts], dtype=np.int64)
        full = np.diff(start_days)
        lengths = full.copy()
        lengths[-1] = to_day(end) - start_days[-2]
        return cls(
            end=end,
            months=months,
            burn=burn,
            month_start=start_days[:-1],
            month_len=lengths,
            month_full_len=full,
            month_of_year=np.array([d.month for d in starts[:-1]], dtype=np.int64),
        )

    @property
    def total(self) -> int:
        """Number of simulated months (burn plus window)."""
        return self.burn + self.months

    @property
    def window_start(self) -> int:
        """Day number of the first day of the history window."""
        return int(self.month_start[self.burn])

    @property
    def end_day(self) -> int:
        """Day number of the exclusive end date."""
        return to_day(self.end)

    def month_of(self, days: np.ndarray) -> np.ndarray:
        """Month index of each day number (-1 before the grid, ``total`` at or after the end)."""
        idx = np.searchsorted(self.month_start, days, side="right") - 1
        return np.where(np.asarray(days) >= self.end_day, self.total, idx)

    def anniversary_offset(self, month: np.ndarray, anchor_dom: np.ndarray) -> np.ndarray:
        """Zero-based day offset in ``month`` of a monthly anniversary on day ``anchor_dom``.

        Clipped to the month's full length (so the 31st falls on the 30th in April); the
        result may exceed the truncated length of the last month, meaning "after the end".
        """
        return np.minimum(anchor_dom, self.month_full_len[month]) - 1

    def weekday(self, days: np.ndarray) -> np.ndarray:
        """Day of week of day numbers (0 = Monday)."""
        return (np.asarray(days) + 3) % 7
