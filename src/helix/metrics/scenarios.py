"""Scenario simulator: what retention is worth over years, and what N points of it do to CLTV.

Both models are closed arithmetic on the inputs (no warehouse), computed in
exact decimals and rounded to the cent only when shown.

**Two companies** equal but for gross retention (``simulate_retention``)::

    timing "end"   (default): ARR[y] = ARR[y-1] * GRR + new_arr
    timing "start":           ARR[y] = (ARR[y-1] + new_arr) * GRR

"end" books each year's new-logo ARR at the year's end (first exposed to
churn the following year); "start" books it at the start of the year.

**CLTV sensitivity** (``cltv_sensitivity``): churn-based CLTV
``arpa * margin / (1 - retention)`` at the base retention and at each
``retention + points/100``, with the change against the base, and the ARR
kept in the first year by those points on a given ARR base (``points/100 * ARR``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from helix.errors import UserError
from helix.metrics.periods import cents

__all__ = [
    "Timing",
    "RetentionScenario",
    "simulate_retention",
    "CltvSensitivity",
    "cltv_sensitivity",
]

Timing = Literal["end", "start"]


def _fraction(name: str, value: Decimal | float | str, *, upper: Decimal = Decimal(1)) -> Decimal:
    v = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    if not Decimal(0) <= v <= upper:
        raise UserError(
            f"{name} must be a fraction between 0 and {upper}, not {value}",
            hint="rates are fractions: 0.93 for 93%",
        )
    return v


def _money(name: str, value: Decimal | float | int | str) -> Decimal:
    v = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    if v < 0:
        raise UserError(f"{name} must be >= 0, not {value}")
    return v


@dataclass(frozen=True)
class RetentionScenario:
    """Year-by-year ARR of company A and company B (year 0 = the start)."""

    start_arr: Decimal
    new_arr_per_year: Decimal
    grr_a: Decimal
    grr_b: Decimal
    years: int
    timing: str
    arr_a: list[Decimal]
    arr_b: list[Decimal]

    @property
    def difference(self) -> Decimal:
        """ARR of B minus ARR of A after the last year, to the cent."""
        return cents(self.arr_b[-1] - self.arr_a[-1])

    def to_dict(self) -> dict[str, Any]:
        """Inputs, a per-year table (ARR of each, difference) and the final difference."""
        return {
            "start_arr": cents(self.start_arr),
            "new_arr_per_year": cents(self.new_arr_per_year),
            "grr_a": float(self.grr_a),
            "grr_b": float(self.grr_b),
            "years": self.years,
            "timing": self.timing,
            "table": [
                {
                    "year": y,
                    "arr_a": cents(a),
                    "arr_b": cents(b),
                    "difference": cents(b - a),
                }
                for y, (a, b) in enumerate(zip(self.arr_a, self.arr_b, strict=True))
            ],
            "difference": self.difference,
        }


def _path(start: Decimal, new: Decimal, grr: Decimal, years: int, timing: Timing) -> list[Decimal]:
    arr = [start]
    for _ in range(years):
        prev = arr[-1]
        arr.append(prev * grr + new if timing == "end" else (prev + new) * grr)
    return arr


def simulate_retention(
    start_arr: Decimal | float | int,
    new_arr_per_year: Decimal | float | int,
    grr_a: Decimal | float,
    grr_b: Decimal | float,
    years: int = 5,
    timing: Timing = "end",
) -> RetentionScenario:
    """Two companies with the same start and new-logo ARR, different GRR, ``years`` on."""
    if not 1 <= years <= 50:
        raise UserError(f"years must be between 1 and 50, not {years}")
    if timing not in ("end", "start"):
        raise UserError(f"timing must be 'end' or 'start', not {timing!r}")
    s = _money("start_arr", start_arr)
    n = _money("new_arr_per_year", new_arr_per_year)
    a = _fraction("grr_a", grr_a)
    b = _fraction("grr_b", grr_b)
    return RetentionScenario(
        s, n, a, b, years, timing, _path(s, n, a, years, timing), _path(s, n, b, years, timing)
    )


@dataclass(frozen=True)
class CltvSensitivity:
    """Churn-based CLTV at a base retention and at retention + N points."""

    arpa: Decimal
    gross_margin: Decimal
    retention: Decimal
    discount_rate: Decimal | None
    arr: Decimal | None
    rows: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        """Inputs and the table (one row per number of points, the base first)."""
        return {
            "arpa": cents(self.arpa),
            "gross_margin": float(self.gross_margin),
            "retention": float(self.retention),
            "discount_rate": float(self.discount_rate) if self.discount_rate is not None else None,
            "arr": cents(self.arr) if self.arr is not None else None,
            "rows": self.rows,
        }


def cltv_sensitivity(
    arpa: Decimal | float | int,
    gross_margin: Decimal | float,
    retention: Decimal | float,
    points: Sequence[int | float] = (1, 2, 3, 4, 5),
    *,
    discount_rate: Decimal | float | None = None,
    arr: Decimal | float | int | None = None,
) -> CltvSensitivity:
    """What ``points`` of annual retention are worth to CLTV (and to ARR, given ``arr``).

    Each row: ``points``, ``retention``, ``churn_rate``, ``lifespan_years``
    (``1 / churn``), ``cltv`` (churn-based), ``cltv_change`` (fraction against
    the base row), ``discounted_cltv`` (with ``discount_rate``) and
    ``arr_kept_first_year`` (``points / 100 * arr``). Retention must stay below 1.
    """
    base_arpa = _money("arpa", arpa)
    gm = _fraction("gross_margin", gross_margin)
    r0 = _fraction("retention", retention)
    d = _fraction("discount_rate", discount_rate) if discount_rate is not None else None
    base_arr = _money("arr", arr) if arr is not None else None
    steps = [
        Decimal(0),
        *(Decimal(repr(p)) if isinstance(p, float) else Decimal(p) for p in points),
    ]
    rows: list[dict[str, Any]] = []
    base_value: Decimal | None = None
    for step in steps:
        r = r0 + step / 100
        if not Decimal(0) <= r < Decimal(1):
            raise UserError(
                f"retention {r0} + {step} points = {r} is outside [0, 1)",
                hint="churn-based CLTV needs some churn: keep retention below 100%",
            )
        churn = 1 - r
        exact = base_arpa * gm / churn
        if base_value is None:
            base_value = exact
        row: dict[str, Any] = {
            "points": float(step),
            "retention": float(r),
            "churn_rate": float(churn),
            "lifespan_years": float(1 / churn),
            "cltv": cents(exact),
            "cltv_change": float(exact / base_value - 1) if base_value else None,
        }
        if d is not None:
            row["discounted_cltv"] = cents(base_arpa * gm / (d + churn))
        if base_arr is not None:
            row["arr_kept_first_year"] = cents(base_arr * step / 100)
        rows.append(row)
    return CltvSensitivity(base_arpa, gm, r0, d, base_arr, rows)
