"""One entry point for every caller (``helix run``, ``helix playbooks run``, the scheduler
in ``helix serve``, the API): decide, then execute what is due."""

from __future__ import annotations

import time
from datetime import date, datetime
from typing import Any

from helix.platform import Platform
from helix.playbooks.engine import LOOKBACK_DAYS, OccurrenceSource, decide
from helix.playbooks.steps import execute


def latest_as_of(platform: Platform) -> date:
    """The as-of date of the last pipeline run (``account_summary.as_of``), else today."""
    wh = platform.warehouse
    if wh.has_table("account_summary"):
        value = wh.table("account_summary").as_of.max().to_pyarrow().as_py()
        if value is not None:
            return value if isinstance(value, date) else value.date()
    return date.today()


def run_playbooks(
    platform: Platform,
    as_of: date | None = None,
    *,
    dry_run: bool = False,
    names: list[str] | None = None,
    actor: str = "system",
    now: datetime | None = None,
    lookback_days: int = LOOKBACK_DAYS,
    source: OccurrenceSource | None = None,
) -> dict[str, Any]:
    """Evaluate the playbooks up to ``as_of`` (default: the last pipeline date), then run
    the steps that are due (not with ``dry_run``, which writes nothing)."""
    t0 = time.perf_counter()
    day = as_of or latest_as_of(platform)
    decisions = decide(platform, day, dry_run=dry_run, names=names, actor=actor,
                       lookback_days=lookback_days, source=source)
    steps = {} if dry_run else execute(platform, day, now=now, actor=actor)
    return {
        "as_of": day.isoformat(),
        "dry_run": dry_run,
        "playbooks": [d.to_dict() for d in decisions],
        "enrolled": sum(d.enrolled for d in decisions),
        "held_out": sum(d.held_out for d in decisions),
        "steps": steps,
        "seconds": round(time.perf_counter() - t0, 2),
    }
