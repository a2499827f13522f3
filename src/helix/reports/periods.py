"""Reporting periods: calendar quarters written ``2025Q3`` (or ``2025-Q3``).

A quarter is the half-open window ``[start, end)`` the metrics measure over:
``2025Q3`` is ``[2025-07-01, 2025-10-01)``, the same window as
``helix metrics retention --start 2025-07-01 --end 2025-10-01``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from helix.errors import UserError
from helix.metrics.periods import add_months, quarter_start

__all__ = ["Quarter", "PeriodError", "parse_quarter", "last_complete_quarter", "recent_quarters"]

_QUARTER = re.compile(r"^\s*(\d{4})\s*-?\s*[Qq]\s*([1-4])\s*$")


class PeriodError(UserError):
    """A reporting period that cannot be read, with the text that was given."""

    def __init__(self, message: str, *, value: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint or "write a quarter as YEARQn, e.g. 2025Q3")
        self.value = value


@dataclass(frozen=True, order=True)
class Quarter:
    """One calendar quarter."""

    year: int
    number: int

    @classmethod
    def of(cls, day: date) -> Quarter:
        """The quarter holding ``day``."""
        return cls(day.year, (day.month - 1) // 3 + 1)

    @property
    def start(self) -> date:
        """First day of the quarter."""
        return date(self.year, 3 * (self.number - 1) + 1, 1)

    @property
    def end(self) -> date:
        """First day after the quarter (the window is ``[start, end)``)."""
        return add_months(self.start, 3)

    @property
    def last_day(self) -> date:
        """Last day of the quarter (inclusive)."""
        return self.end - timedelta(days=1)

    @property
    def label(self) -> str:
        """``2025Q3``."""
        return f"{self.year}Q{self.number}"

    def shift(self, quarters: int) -> Quarter:
        """The quarter ``quarters`` later (earlier when negative)."""
        return Quarter.of(add_months(self.start, 3 * quarters))

    @property
    def prior(self) -> Quarter:
        """The quarter before."""
        return self.shift(-1)

    @property
    def next(self) -> Quarter:
        """The quarter after."""
        return self.shift(1)

    def __str__(self) -> str:
        return self.label


def parse_quarter(text: str) -> Quarter:
    """``2025Q3``, ``2025-Q3`` or ``2025q3`` as a :class:`Quarter`; a clear error otherwise."""
    if not isinstance(text, str) or not text.strip():
        raise PeriodError("no period given", value=str(text))
    m = _QUARTER.match(text)
    if m is None:
        if re.match(r"^\s*\d{4}\s*-?\s*[Qq]\s*\d+\s*$", text):
            raise PeriodError(
                f"{text.strip()!r} is not a quarter: a year has quarters 1 to 4", value=text
            )
        raise PeriodError(f"cannot read {text.strip()!r} as a quarter", value=text)
    year, number = int(m.group(1)), int(m.group(2))
    if year < 1900:
        raise PeriodError(f"{text.strip()!r}: the year {year} is out of range", value=text)
    return Quarter(year, number)


def last_complete_quarter(as_of: date) -> Quarter:
    """The latest quarter that ended on or before ``as_of``."""
    return Quarter.of(quarter_start(as_of)).prior


def recent_quarters(as_of: date, count: int = 8) -> list[Quarter]:
    """The ``count`` latest complete quarters, newest first."""
    last = last_complete_quarter(as_of)
    return [last.shift(-i) for i in range(count)]
