"""Writing the history: ``account_signals``, ``health_scores`` and ``health_events``.

First run: signals for every backfill date (see :mod:`helix.signals.dates`), then
scores for all of them. Later runs add the new as-of date (and any month start
or weekly date missed since the last run). Rows of dates already scored are
never rewritten, except the as-of date itself, which is recomputed when a run
repeats it (after an import, say). So the history always says what the score
was on each past date, and under which model version.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa

from helix.health.data import load_signals, signal_dates
from helix.health.model import HealthModel
from helix.health.scoring import CONTRIB_PREFIX, POINTS_PREFIX, score_frame
from helix.signals import Sources, compute_signals, scoring_dates, update_text_sentiment
from helix.signals.dates import catch_up_dates
from helix.warehouse import Warehouse
from helix.warehouse.connection import utcnow
from helix.warehouse.schema import ACCOUNT_SIGNALS, HEALTH_EVENTS, HEALTH_SCORES

__all__ = ["update_signals", "update_scores", "drivers_between", "MAX_BACKFILL_DAYS"]

MAX_BACKFILL_DAYS = 3 * 365
"""The first run backfills at most three years before the as-of date."""
DRIVER_LOOKBACK_DAYS = 28
"""Drivers compare with the latest scored date at least this many days earlier."""

Progress = Callable[[float, str], None]


def _history_start(wh: Warehouse, as_of: date) -> date:
    """First backfill date: the first subscription start, or, when there are events,
    90 days after the first event (so the usage look-backs are filled), capped to
    :data:`MAX_BACKFILL_DAYS` before the as-of date."""
    first = wh.table("subscriptions").start_date.min().to_pyarrow().as_py()
    if first is None:
        return as_of
    ev_first = wh.table("events").event_time.min().to_pyarrow().as_py()
    if ev_first is not None:
        first = max(first, ev_first.date() + timedelta(days=90))
    return min(as_of, max(first, as_of - timedelta(days=MAX_BACKFILL_DAYS)))


def _replace_dates(wh: Warehouse, table: str, column: str, days: list[date]) -> None:
    """Remove the rows of ``days`` from ``table`` (they are about to be rewritten)."""
    t = wh.table(table)
    hit = int(t.filter(t[column].isin(days)).count().execute())
    if hit:
        wh.write_table(table, t.filter(~t[column].isin(days)))


def update_signals(
    wh: Warehouse,
    model: HealthModel,
    as_of: date,
    *,
    full: bool = False,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Score new texts, then compute and store signals for the dates not yet stored.

    ``full`` recomputes every backfill date and every date stored before
    (signals are derived data; the score history in ``health_scores`` is kept
    either way).
    """
    say = progress or (lambda f, m: None)
    say(0.05, "text sentiment")
    texts = update_text_sentiment(wh)
    stored = [] if full else signal_dates(wh)
    if full:
        # every backfill date and every date stored before (daily catch-up days
        # included): a full run must not thin out the history
        earlier = [d for d in signal_dates(wh) if d <= as_of]
        new = sorted(set(scoring_dates(_history_start(wh, as_of), as_of)) | set(earlier))
    elif stored and stored[-1] >= as_of:
        new = [as_of]
    elif stored:
        new = catch_up_dates(stored[-1] + timedelta(days=1), as_of)
    else:
        new = scoring_dates(_history_start(wh, as_of), as_of)
    say(0.3, f"signals for {len(new)} dates")
    src = Sources(wh)
    if not src.available("subscriptions"):
        return {"text_sentiment": texts, ACCOUNT_SIGNALS.name: 0}
    expr = compute_signals(src, new, model.signals)
    if stored:
        _replace_dates(wh, ACCOUNT_SIGNALS.name, "score_date", new)
        wh.append(ACCOUNT_SIGNALS.name, expr)
    else:
        wh.write_table(ACCOUNT_SIGNALS.name, expr)
    t = wh.table(ACCOUNT_SIGNALS.name)
    rows = int(t.filter(t.score_date.isin(new)).count().execute())
    return {"text_sentiment": texts, ACCOUNT_SIGNALS.name: rows}


def _reference_dates(all_days: list[date], days: list[date]) -> dict[date, date]:
    """For each of ``days``, the latest stored date at least 28 days before it."""
    out = {}
    arr = sorted(all_days)
    for d in days:
        earlier = [x for x in arr if x <= d - timedelta(days=DRIVER_LOOKBACK_DAYS)]
        if earlier:
            out[d] = earlier[-1]
    return out


def drivers_between(now: pd.DataFrame, before: pd.DataFrame, model: HealthModel, top: int = 3) -> list[str]:
    """JSON list per row of ``now``: the measures whose contribution moved the score most.

    ``now`` and ``before`` are aligned scored frames (same accounts, row by row;
    ``before`` rows may be all-NaN where there is no earlier score).
    """
    sigs = [m.signal for _, m in model.measures()]
    group_of = {m.signal: g.name for g, m in model.measures()}
    c_now = now[[CONTRIB_PREFIX + s for s in sigs]].to_numpy()
    c_before = before[[CONTRIB_PREFIX + s for s in sigs]].to_numpy()
    delta = c_now - c_before
    has_before = ~np.isnan(before["score"].to_numpy())
    order = np.argsort(-np.abs(np.nan_to_num(delta)), axis=1)[:, :top]
    p_now = now[[POINTS_PREFIX + s for s in sigs]].to_numpy()
    p_before = before[[POINTS_PREFIX + s for s in sigs]].to_numpy()
    out = []
    for i in range(len(now)):
        if not has_before[i]:
            out.append("[]")
            continue
        items = []
        for j in order[i]:
            d = delta[i, j]
            if np.isnan(d) or abs(d) < 0.05:
                continue
            items.append({
                "signal": sigs[j],
                "group": group_of[sigs[j]],
                "delta": round(float(d), 2),
                "points_from": None if np.isnan(p_before[i, j]) else round(float(p_before[i, j]), 1),
                "points_to": None if np.isnan(p_now[i, j]) else round(float(p_now[i, j]), 1),
            })
        out.append(json.dumps(items))
    return out


def _scores_table(scored: pd.DataFrame, drivers: list[str], model: HealthModel) -> pa.Table:
    schema = HEALTH_SCORES.ibis_schema().to_pyarrow()
    now = utcnow()
    n = len(scored)
    cols: dict[str, object] = {
        "account_id": scored["account_id"].tolist(),
        "score_date": scored["score_date"].tolist(),
        "score": scored["score"].round(2).tolist(),
        "color": scored["color"].tolist(),
    }
    for g in ("usage", "sentiment", "relationship", "onboarding", "commercial"):
        col = f"{g}_score"
        cols[col] = scored[col].round(2).tolist() if col in scored else [None] * n
    groups = [g.name for g in model.groups]
    values = scored[[f"{g}_score" for g in groups]].round(2)
    cols["group_scores"] = [
        json.dumps({g: (None if pd.isna(v) else float(v)) for g, v in zip(groups, row, strict=True)})
        for row in values.itertuples(index=False, name=None)
    ]
    cols["model_version"] = [model.version_id] * n
    cols["drivers"] = drivers
    cols["missing"] = [json.dumps(m) for m in scored["missing"]]
    cols["computed_at"] = [now] * n
    arrays = [pa.array(cols[f.name], f.type, from_pandas=True) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def _events(rows: pd.DataFrame, previous: pd.DataFrame, model: HealthModel) -> pa.Table:
    """Colour changes between consecutive scored dates of each account."""
    base = pd.concat([previous.assign(_new=False), rows.assign(_new=True)], ignore_index=True)
    base = base.sort_values(["account_id", "score_date"], kind="stable")
    base["_prev"] = base.groupby("account_id")["color"].shift(1)
    ch = base[base["_new"] & base["_prev"].notna() & base["color"].notna() & (base["color"] != base["_prev"])]
    schema = HEALTH_EVENTS.ibis_schema().to_pyarrow()
    resp = model.responses

    def pick(color: str, attr: str) -> object:
        r = resp.get(color)
        return getattr(r, attr) if r is not None else None

    cols = {
        "account_id": ch["account_id"].tolist(),
        "event_date": ch["score_date"].tolist(),
        "event": [f"turned_{c}" for c in ch["color"]],
        "from_color": ch["_prev"].tolist(),
        "to_color": ch["color"].tolist(),
        "score": ch["score"].tolist(),
        "model_version": [model.version_id] * len(ch),
        "owner_role": [pick(c, "owner_role") for c in ch["color"]],
        "action": [pick(c, "action") for c in ch["color"]],
        "due_date": [
            d + timedelta(days=int(pick(c, "deadline_days") or 0)) if pick(c, "deadline_days") is not None else None
            for d, c in zip(ch["score_date"], ch["color"], strict=True)
        ],
        "drivers": ch["drivers"].tolist(),
    }
    arrays = [pa.array(cols[f.name], f.type, from_pandas=True) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def update_scores(
    wh: Warehouse, model: HealthModel, as_of: date, *, progress: Progress | None = None
) -> dict[str, int]:
    """Score every stored signal date not yet scored (and the as-of date again); write events."""
    say = progress or (lambda f, m: None)
    all_days = signal_dates(wh)
    st = wh.table(HEALTH_SCORES.name)
    scored_days = set(st.select("score_date").distinct().to_pyarrow()["score_date"].to_pylist())
    todo = sorted(d for d in all_days if d not in scored_days or d == as_of)
    if not todo:
        return {HEALTH_SCORES.name: 0, HEALTH_EVENTS.name: 0}
    refs = _reference_dates(all_days, todo)
    say(0.2, f"scoring {len(todo)} dates")
    sig = load_signals(wh, sorted(set(todo) | set(refs.values())))
    scored = score_frame(sig, model)
    now = scored[scored["score_date"].isin(todo)].reset_index(drop=True)
    ref_key = now[["account_id"]].assign(score_date=now["score_date"].map(refs))
    before = ref_key.merge(scored, on=["account_id", "score_date"], how="left")
    say(0.6, "drivers of change")
    now["drivers"] = drivers_between(now, before, model)
    _replace_dates(wh, HEALTH_SCORES.name, "score_date", todo)
    _replace_dates(wh, HEALTH_EVENTS.name, "event_date", todo)
    st = wh.table(HEALTH_SCORES.name)
    first = min(todo)
    prior = st.filter(st.score_date < first)
    latest = prior.mutate(_m=prior.score_date.max().over(ibis.window(group_by="account_id")))
    latest = latest.filter(latest.score_date == latest._m).select("account_id", "score_date", "color")
    previous = latest.to_pyarrow().to_pandas()
    scores_tbl = _scores_table(now, now["drivers"].tolist(), model)
    wh.append(HEALTH_SCORES.name, scores_tbl)
    say(0.85, "colour changes")
    events = _events(now[["account_id", "score_date", "color", "score", "drivers"]], previous, model)
    if events.num_rows:
        wh.append(HEALTH_EVENTS.name, events)
    return {HEALTH_SCORES.name: scores_tbl.num_rows, HEALTH_EVENTS.name: events.num_rows}
