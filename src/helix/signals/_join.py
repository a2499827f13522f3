"""Small Ibis helpers the signal modules share: a key-deduplicating left join, 0/1 flags,
day numbers."""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir


def left_join(a: ir.Table, b: ir.Table, key: str | list[str]) -> ir.Table:
    """``a`` left-joined to ``b`` on ``key``: all of a's columns, then b's other columns."""
    keys = [key] if isinstance(key, str) else list(key)
    j = a.left_join(b, [a[k] == b[k] for k in keys])
    return j.select(*[a[c] for c in a.columns], *[b[c] for c in b.columns if c not in keys])


def flag(condition: ir.BooleanValue) -> ir.FloatingValue:
    """A boolean as 1.0 / 0.0 (null stays null).

    PostgreSQL has no cast from boolean to double precision, only to integer, so
    the cast goes through int32; DuckDB and Spark accept either.
    """
    return condition.cast(dt.int32).cast(dt.float64)


def day_number(day: ir.DateValue) -> ir.IntegerValue:
    """Days since 1970-01-01: an integer to order range windows by, on every backend."""
    return day.delta(ibis.date(1970, 1, 1), unit="day").cast(dt.int64)
