"""Proof that a play works: treated against held-out accounts on the playbook's goal.

For every enrolment whose goal window has passed (``occurred_on + window_days <= as_of``)
the goal is read from the warehouse on the window's last day:

* ``retention``: the account still has MRR > 0 (a row with ``mrr > 0`` in
  ``account_signals``; churned accounts have none);
* ``expansion``: its MRR then is above its MRR on the trigger date;
* ``activation``: it has reached the first value moment (``value_reached = 1``);
* ``health_recovery``: its health colour then is better than on the trigger date
  (red < yellow < green; an account without a score, e.g. churned, did not recover).

The unit of comparison is the account, as the holdout draw is: each account counts once,
with its earliest mature enrolment (:func:`first_per_account`). The uplift is the
difference of the two success rates with a 95% Newcombe (hybrid Wilson score) interval,
which behaves at small counts and at rates near 0 or 1.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import date, timedelta
from typing import Any

import ibis
from sqlalchemy import select
from sqlalchemy.orm import Session

from helix.playbooks.catalog import get_playbook
from helix.store.models import Enrolment, PlaybookStep, StepStatus, Task, TaskStatus
from helix.warehouse import Warehouse

Z95 = 1.959963984540054
_RANK = {"red": 0, "yellow": 1, "green": 2}


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion (``(nan, nan)`` when ``n`` is 0)."""
    if n == 0:
        return math.nan, math.nan
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_difference(s1: int, n1: int, s2: int, n2: int) -> tuple[float, float, float]:
    """``p1 - p2`` and its 95% Newcombe hybrid score interval."""
    if n1 == 0 or n2 == 0:
        return math.nan, math.nan, math.nan
    p1, p2 = s1 / n1, s2 / n2
    l1, u1 = wilson(s1, n1)
    l2, u2 = wilson(s2, n2)
    d = p1 - p2
    lo = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, lo, hi


def _clean(x: float) -> float | None:
    return None if math.isnan(x) else round(x, 6)


def goal_outcomes(
    wh: Warehouse, metric: str, rows: list[dict[str, Any]], window_days: int
) -> dict[int, bool]:
    """Whether each enrolment (``id``, ``account_id``, ``occurred_on``) met ``metric``
    ``window_days`` after it occurred."""
    if not rows:
        return {}
    enr = ibis.memtable({
        "enrolment_id": [r["id"] for r in rows],
        "account_id": [r["account_id"] for r in rows],
        "start_on": [r["occurred_on"] for r in rows],
        "end_on": [r["occurred_on"] + timedelta(days=window_days) for r in rows],
    })
    table = "health_scores" if metric == "health_recovery" else "account_signals"
    if not wh.has_table(table):
        return {r["id"]: False for r in rows}
    t = wh.table(table)
    value = {"health_recovery": "color", "activation": "value_reached"}.get(metric, "mrr")
    at = t.select(account_id=t.account_id, on=t.score_date, v=t[value])
    end = enr.left_join(at, (enr.account_id == at.account_id) & (enr.end_on == at.on)).select(
        "enrolment_id", end_v=at.v
    )
    start = enr.left_join(at, (enr.account_id == at.account_id) & (enr.start_on == at.on)).select(
        "enrolment_id", start_v=at.v
    )
    joined = end.join(start, "enrolment_id").to_pyarrow().to_pylist()
    out = {}
    for r in joined:
        s, e = r["start_v"], r["end_v"]
        if metric == "retention":
            ok = e is not None and e > 0
        elif metric == "expansion":
            ok = e is not None and e > (s or 0)
        elif metric == "activation":
            ok = e is not None and e >= 1
        else:
            ok = e is not None and _RANK.get(e, -1) > _RANK.get(s, 3)
        out[r["enrolment_id"]] = bool(ok)
    return out


def first_per_account(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each account's earliest enrolment (by date, then id).

    The holdout draw is made per (playbook, account), so the account is the unit that was
    randomised: an account enrolled every month is one observation, not twelve correlated
    ones that would narrow the interval falsely."""
    first: dict[str, dict[str, Any]] = {}
    for r in sorted(rows, key=lambda r: (r["occurred_on"], r["id"])):
        first.setdefault(r["account_id"], r)
    return list(first.values())


def funnel(session: Session, playbook: str) -> dict[str, int]:
    """Triggered, held out, treated, actioned (a step done), completed (every step
    finished and every task done) and tasks done / dismissed."""
    enrolments = list(session.scalars(select(Enrolment).where(Enrolment.playbook == playbook)))
    steps = session.execute(
        select(PlaybookStep.enrolment_id, PlaybookStep.status).join(Enrolment).where(
            Enrolment.playbook == playbook)
    ).all()
    by_enrolment: dict[int, list[StepStatus]] = {}
    for enrolment_id, status in steps:
        by_enrolment.setdefault(enrolment_id, []).append(StepStatus(status))
    tasks = Counter(str(s) for s in session.scalars(
        select(Task.status).where(Task.playbook == playbook)))
    treated = [e for e in enrolments if not e.held_out]
    return {
        "triggered": len(enrolments),
        "held_out": len(enrolments) - len(treated),
        "treated": len(treated),
        "actioned": sum(StepStatus.DONE in by_enrolment.get(e.id, []) for e in treated),
        "completed": sum(
            bool(by_enrolment.get(e.id))
            and all(s in (StepStatus.DONE, StepStatus.SKIPPED) for s in by_enrolment[e.id])
            for e in treated
        ),
        "tasks_open": tasks.get(str(TaskStatus.OPEN), 0),
        "tasks_done": tasks.get(str(TaskStatus.DONE), 0),
        "tasks_dismissed": tasks.get(str(TaskStatus.DISMISSED), 0),
    }


def impact(wh: Warehouse, session: Session, playbook: str, as_of: date) -> dict[str, Any]:
    """Treated against held-out on the playbook's goal, with the uplift's 95% interval,
    the counts behind it and the funnel."""
    pb = get_playbook(session, playbook)
    report: dict[str, Any] = {"playbook": playbook, "as_of": as_of.isoformat(),
                              "holdout": pb.holdout, "funnel": funnel(session, playbook)}
    if pb.goal is None:
        return report | {"goal": None, "note": "the playbook has no goal to measure"}
    window = pb.goal.window_days
    mature = [
        {"id": e.id, "account_id": e.account_id, "occurred_on": e.occurred_on,
         "held_out": e.held_out}
        for e in session.scalars(select(Enrolment).where(Enrolment.playbook == playbook))
        if e.occurred_on + timedelta(days=window) <= as_of
    ]
    units = first_per_account(mature)
    met = goal_outcomes(wh, pb.goal.metric, units, window)
    groups = {"treated": [m for m in units if not m["held_out"]],
              "held_out": [m for m in units if m["held_out"]]}
    counts = {g: {"n": len(rows), "met": sum(met.get(r["id"], False) for r in rows)}
              for g, rows in groups.items()}
    for c in counts.values():
        c["rate"] = c["met"] / c["n"] if c["n"] else None
    d, lo, hi = newcombe_difference(counts["treated"]["met"], counts["treated"]["n"],
                                    counts["held_out"]["met"], counts["held_out"]["n"])
    note = None
    if not counts["held_out"]["n"] or not counts["treated"]["n"]:
        note = ("no comparison yet: both groups need enrolments whose window has passed"
                + ("" if pb.holdout else " (the playbook has no holdout)"))
    return report | {
        "goal": pb.goal.metric, "window_days": window, "mature_enrolments": len(mature),
        "unit": "account",
        "treated": counts["treated"], "held_out_group": counts["held_out"],
        "uplift": _clean(d), "ci_low": _clean(lo), "ci_high": _clean(hi), "confidence": 0.95,
        "significant": (not math.isnan(lo)) and (lo > 0 or hi < 0), "note": note,
    }
