"""Replay the playbook engine over past dates: the history a CS team that ran Helix has.

`helix demo` uses this to give a fresh demo company a year of playbook history, so that
the Tasks, Playbooks and impact pages show what a team that has used Helix sees: past
enrolments (treated and held out by the ordinary draw), their steps, and the tasks the
CSMs completed or dismissed. Each replayed run is the ordinary engine
(:func:`helix.playbooks.service.run_playbooks`) as of that day; after each one the
tasks due more than :data:`DONE_AFTER_DAYS` before it are closed, as the team would have
closed them, so `unless: task_done` steps see them done.

The engine's filters read ARR and the touch model as of the replayed day
(:func:`helix.playbooks.engine.past_arr`); the owner, segment and custom attributes are
those of the last pipeline run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from time import perf_counter
from typing import Any

from sqlalchemy import select

from helix.platform import Platform
from helix.playbooks.definition import Playbook
from helix.playbooks.engine import trigger_occurrences
from helix.playbooks.service import run_playbooks
from helix.playbooks.tasks import close_task
from helix.store.models import Notification, PlaybookStep, Task, TaskStatus
from helix.warehouse import Warehouse

DONE_AFTER_DAYS = 7
"""A replayed task is closed once it has been due this long."""
DISMISSED_SHARE = 0.15
"""Share of the replayed tasks that the team dismissed rather than completed."""


def replay_dates(start: date, end: date, every_days: int) -> list[date]:
    """``start``, every ``every_days`` after it before ``end``, and ``end``."""
    if every_days < 1:
        raise ValueError("every_days must be at least 1")
    days, d = [], start
    while d < end:
        days.append(d)
        d += timedelta(days=every_days)
    return [*days, end]


def _dismissed(task_id: int) -> bool:
    digest = hashlib.sha256(f"replay-task:{task_id}".encode()).hexdigest()
    return int(digest[:8], 16) / 16**8 < DISMISSED_SHARE


def close_past_tasks(platform: Platform, day: date, *, actor: str) -> int:
    """Close the open tasks due before ``day - DONE_AFTER_DAYS`` (most done, some dismissed)
    and mark the notifications before then read; returns the tasks closed."""
    cutoff = day - timedelta(days=DONE_AFTER_DAYS)
    when = datetime.combine(day, time(17), UTC).replace(tzinfo=None)
    with platform.store.session() as session:
        ids = list(session.scalars(select(Task.id).where(
            Task.status == TaskStatus.OPEN, Task.due_date < cutoff).order_by(Task.id)))
        for task_id in ids:
            dismissed = _dismissed(task_id)
            task = close_task(
                session, task_id, "dismissed" if dismissed else "done",
                "not needed any more (replayed history)" if dismissed
                else "done (replayed history)", actor=actor,
            )
            task.closed_at = when
        past_steps = select(PlaybookStep.id).where(PlaybookStep.due_on < cutoff)
        for note in session.scalars(select(Notification).where(
                Notification.read_at.is_(None), Notification.step_id.in_(past_steps))):
            note.read_at = when
    return len(ids)


class WindowCache:
    """Each playbook's occurrences over the whole replay, queried once and sliced per run.

    Exact because an occurrence is a function of its own day's (and the day before's)
    rows, the same in every window that contains it (see :mod:`helix.playbooks.triggers`)."""

    def __init__(self, first: date, last: date) -> None:
        self.first, self.last = first, last
        self._rows: dict[str, list[dict[str, Any]]] = {}

    def __call__(self, wh: Warehouse, pb: Playbook, start: date, end: date) -> list[dict]:
        if start < self.first or end > self.last:
            return trigger_occurrences(wh, pb, start, end)
        key = pb.trigger.model_dump_json()
        if key not in self._rows:
            self._rows[key] = trigger_occurrences(wh, pb, self.first, self.last)
        return [r for r in self._rows[key] if start <= r["occurred_on"] <= end]


def replay_history(
    platform: Platform,
    start: date,
    end: date,
    *,
    every_days: int = 7,
    actor: str = "replay",
    progress: Callable[[float, str], None] | None = None,
) -> dict[str, Any]:
    """Run the engine as of ``start``, every ``every_days`` after it, and ``end``.

    Returns the totals of the runs and the last run's report."""
    t0 = perf_counter()
    days = replay_dates(start, end, every_days)
    cache = WindowCache(start - timedelta(days=every_days), end)
    totals = {"runs": len(days), "enrolled": 0, "held_out": 0, "tasks_closed": 0}
    report: dict[str, Any] = {}
    for i, day in enumerate(days):
        if progress is not None:
            progress(i / len(days), f"playbooks as of {day}")
        now = datetime.combine(day, time(9), UTC)
        report = run_playbooks(platform, day, actor=actor, now=now, lookback_days=every_days,
                               source=cache)
        totals["enrolled"] += report["enrolled"]
        totals["held_out"] += report["held_out"]
        if day != end:
            totals["tasks_closed"] += close_past_tasks(platform, day, actor=actor)
    return {"start": start.isoformat(), "end": end.isoformat(), "every_days": every_days,
            **totals, "seconds": round(perf_counter() - t0, 2), "last_run": report}
