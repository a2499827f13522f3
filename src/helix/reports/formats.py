"""How numbers are written on slides and pages: money to the cent, rates with one decimal."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

__all__ = ["money", "pct", "points", "signed_money", "plain"]


def money(value: Decimal | float | int | None) -> str:
    """``$195,629.80`` (``-`` when absent); negative amounts as ``-$12.00``."""
    if value is None:
        return "-"
    v = Decimal(str(value)) if not isinstance(value, Decimal) else value
    sign = "-" if v < 0 else ""
    return f"{sign}${abs(v):,.2f}"


def signed_money(value: Decimal | float | int | None) -> str:
    """``+$1,200.00`` / ``-$300.00``."""
    if value is None:
        return "-"
    v = Decimal(str(value)) if not isinstance(value, Decimal) else value
    return ("+" if v >= 0 else "-") + f"${abs(v):,.2f}"


def pct(value: float | None, digits: int = 1) -> str:
    """``100.4%`` (``-`` when absent)."""
    return "-" if value is None else f"{value * 100:.{digits}f}%"


def points(value: float | None) -> str:
    """A change of a rate in percentage points: ``+1.3 pts``."""
    return "-" if value is None else f"{value * 100:+.1f} pts"


def plain(obj: Any) -> Any:
    """``obj`` with Decimals as floats and dates as ISO strings: the JSON the CLI prints,
    for the API (money stays a number rounded to the cent)."""
    if isinstance(obj, Decimal):
        return float(obj)
    if isinstance(obj, date | datetime):
        return obj.isoformat()
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [plain(v) for v in obj]
    return obj
