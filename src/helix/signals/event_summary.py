"""Whole-history event aggregates, kept per events part so a daily run reads no old events.

Three usage signals look at the whole event history, not a window:

* first use of each event type per account (breadth ever, new features, the
  event types the product had before a date, whether onboarding is observable);
* the day each user of an account first did the value event (first value moment);
* the last active day before the look-back windows (days since last activity of
  an account quiet for months).

Computing them from the events reads every event (160M at 100k accounts) on every
run. On a DuckDB file warehouse events are Parquet parts that are only ever added,
merged or replaced as whole files (:mod:`helix.warehouse.parts`), so each of those
aggregates is kept *per part*: :func:`refresh_event_summary` summarises the parts
not yet summarised and forgets the rows of parts that no longer exist (merged or
replaced). Minima and maxima do not change when the same event is counted twice,
so the answer is the minimum or maximum over the per-part rows: exactly what the
events give, whatever the parts' history.

The last active day before the look-backs is exact too: the summary keeps each
account's last day per week (day number // 7); the usage query reads events from the
start of the week of D - 120 (D the earliest scoring date) and takes the older days
from the weeks entirely before it.

:func:`event_summary` returns the summary only when it covers exactly the current
parts (and the configured value event); otherwise (other backends, events written
since the last refresh) signals compute the same aggregates from the events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pyarrow as pa

from helix.signals._join import day_number
from helix.signals.config import SignalConfig
from helix.warehouse.connection import utcnow
from helix.warehouse.schema import (
    EVENT_SUMMARY_PARTS,
    EVENT_TYPE_FIRSTS,
    EVENT_VALUE_FIRSTS,
    EVENT_WEEK_LASTS,
)

if TYPE_CHECKING:
    from helix.warehouse import Warehouse

__all__ = [
    "EventSummary",
    "event_summary",
    "refresh_event_summary",
    "first_uses",
    "value_firsts",
    "week_lasts",
    "week_start",
]

EPOCH = date(1970, 1, 1)
SUMMARY_TABLES = (EVENT_TYPE_FIRSTS.name, EVENT_WEEK_LASTS.name, EVENT_VALUE_FIRSTS.name)


def week_start(day: date) -> date:
    """The first day of ``day``'s summary week (weeks are day number // 7)."""
    return EPOCH + timedelta(days=((day - EPOCH).days // 7) * 7)


def first_uses(events: ir.Table) -> ir.Table:
    """``account_id, event_type, first_day``: when each account first used each event type."""
    return events.group_by(["account_id", "event_type"]).aggregate(first_day=events.event_time.min().date())


def value_firsts(events: ir.Table, cfg: SignalConfig) -> ir.Table:
    """``account_id, user_id, first_day``: each user's first value event."""
    x = events.filter(events.event_type == cfg.value_event_type)
    return x.group_by(["account_id", "user_id"]).aggregate(first_day=x.event_time.min().date())


def week_lasts(events: ir.Table) -> ir.Table:
    """``account_id, week, last_day``: the last event day of each account in each week."""
    e = events.select("account_id", day=events.event_time.date())
    e = e.mutate(week=day_number(e.day) // 7)
    return e.group_by(["account_id", "week"]).aggregate(last_day=e.day.max())


def last_day_before(events: ir.Table, before: date) -> ir.Table:
    """``account_id, old_last``: the last event day strictly before ``before``, from the events."""
    old = events.filter(events.event_time < datetime.combine(before, time.min))
    return old.group_by("account_id").aggregate(old_last=old.event_time.max().date())


@dataclass(frozen=True)
class EventSummary:
    """The summary tables, read as the aggregates over all events they stand for."""

    wh: Warehouse

    def first_uses(self) -> ir.Table:
        """Same rows as :func:`first_uses` of all events."""
        t = self.wh.table(EVENT_TYPE_FIRSTS.name)
        return t.group_by(["account_id", "event_type"]).aggregate(first_day=t.first_day.min())

    def value_firsts(self) -> ir.Table:
        """Same rows as :func:`value_firsts` of all events (for the summarised value event)."""
        t = self.wh.table(EVENT_VALUE_FIRSTS.name)
        return t.group_by(["account_id", "user_id"]).aggregate(first_day=t.first_day.min())

    def last_day_before(self, before: date) -> ir.Table:
        """Same rows as :func:`last_day_before` when ``before`` starts a week."""
        if week_start(before) != before:
            raise ValueError(f"{before} does not start a summary week ({week_start(before)} does)")
        t = self.wh.table(EVENT_WEEK_LASTS.name)
        old = t.filter(t.week < (before - EPOCH).days // 7)
        return old.group_by("account_id").aggregate(old_last=old.last_day.max())


def _events_parts(wh: Warehouse) -> list[str] | None:
    """The current events part files, or None when events are not kept in parts."""
    if wh.parts is None or not wh.parts.holds("events"):
        return None
    return [f for f, _ in wh.parts.files("events")]


def _summarised(wh: Warehouse) -> dict[str, str | None]:
    """Summarised part -> the value event it was summarised for."""
    if not wh.has_table(EVENT_SUMMARY_PARTS.name):
        return {}
    rows = wh.table(EVENT_SUMMARY_PARTS.name).select("part", "value_event_type").to_pyarrow().to_pylist()
    return {r["part"]: r["value_event_type"] for r in rows}


def event_summary(wh: Warehouse, cfg: SignalConfig) -> EventSummary | None:
    """The summary, when it covers exactly the current events parts for ``cfg``'s value event."""
    parts = _events_parts(wh)
    if parts is None:
        return None
    done = _summarised(wh)
    if set(done) != set(parts) or any(v != cfg.value_event_type for v in done.values()):
        return None
    return EventSummary(wh)


def refresh_event_summary(wh: Warehouse, cfg: SignalConfig) -> dict[str, int] | None:
    """Bring the summary up to the current events parts, in one transaction.

    Parts no longer listed lose their rows; parts not yet summarised are read once.
    A change of the value event summarises every part again. Returns how many parts
    were added and dropped, or None where events are not kept in parts.
    """
    parts = _events_parts(wh)
    if parts is None:
        return None
    done = _summarised(wh)
    if any(v != cfg.value_event_type for v in done.values()):
        gone, new = set(done), list(parts)
    else:
        gone, new = set(done) - set(parts), [p for p in parts if p not in done]
    if not gone and not new:
        return {"parts_added": 0, "parts_dropped": 0}
    assert wh.parts is not None
    with wh.transaction():
        if gone:
            keep = sorted(set(done) - gone)
            for name in (*SUMMARY_TABLES, EVENT_SUMMARY_PARTS.name):
                t = wh.table(name)
                wh.write_table(name, t.filter(t.part.isin(keep)) if keep else t.limit(0))
        for part in new:
            events = wh.parts.part("events", part)
            for spec, rows in (
                (EVENT_TYPE_FIRSTS, first_uses(events)),
                (EVENT_WEEK_LASTS, week_lasts(events)),
                (EVENT_VALUE_FIRSTS, value_firsts(events, cfg)),
            ):
                rows = rows.mutate(part=ibis.literal(part, dt.string))
                wh.append(spec.name, rows.select(*(c.name for c in spec.columns)))
        if new:
            wh.append(
                EVENT_SUMMARY_PARTS.name,
                pa.table({
                    "part": pa.array(new, pa.string()),
                    "value_event_type": pa.array([cfg.value_event_type] * len(new), pa.string()),
                    "summarised_at": pa.array([utcnow()] * len(new), pa.timestamp("us")),
                }),
            )  # fmt: skip
    return {"parts_added": len(new), "parts_dropped": len(gone)}
