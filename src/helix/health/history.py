"""Writing the history: ``account_signals``, ``health_scores`` and ``health_events``.

First run: signals for every day of the history (see :mod:`helix.signals.dates`),
then scores for all of them, both in batches of days. Later runs add every day
since the last stored one. Rows of dates already scored are
never rewritten, except the as-of date itself, which is recomputed when a run
repeats it (after an import, say). So the history always says what the score
was on each past date, and under which model version.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from helix.health.data import load_signals, signal_dates
from helix.health.model import HealthModel
from helix.health.scoring import CONTRIB_PREFIX, POINTS_PREFIX, score_frame
from helix.signals import Sources, compute_signals, scoring_dates, update_text_sentiment
from helix.signals.dates import batches, catch_up_dates
from helix.signals.event_summary import refresh_event_summary
from helix.warehouse import Warehouse
from helix.warehouse.connection import utcnow
from helix.warehouse.schema import (
    ACCOUNT_SIGNALS,
    HEALTH_EVENTS,
    HEALTH_LATEST,
    HEALTH_RECENT,
    HEALTH_SCORES,
)

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


def _accounts(wh: Warehouse) -> int:
    """Accounts with any subscription: the most that can be active on one day."""
    return int(wh.table("subscriptions").account_id.nunique().execute())


def _new_dates(wh: Warehouse, as_of: date, full: bool) -> tuple[list[date], bool]:
    """The dates this run computes, and whether there is a stored history to add to."""
    stored = signal_dates(wh)
    if full:
        # every day of the history and every date stored before: a full run
        # must not thin out the history
        earlier = [d for d in stored if d <= as_of]
        return sorted(set(scoring_dates(_history_start(wh, as_of), as_of)) | set(earlier)), False
    if stored and stored[-1] >= as_of:
        return [as_of], True
    if stored:
        return catch_up_dates(stored[-1] + timedelta(days=1), as_of), True
    return scoring_dates(_history_start(wh, as_of), as_of), False


def update_signals(
    wh: Warehouse,
    model: HealthModel,
    as_of: date,
    *,
    full: bool = False,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Score new texts, bring the event summary up to date, then compute and store
    signals for the dates not yet stored.

    The first run stores every day of the history, in batches of consecutive
    days (:func:`helix.signals.dates.batches`) so that memory stays bounded; a
    run that stops half-way leaves whole days behind and the next run goes on
    from the last of them. ``full`` recomputes every day (signals are derived
    data; the score history in ``health_scores`` is kept either way).
    """
    say = progress or (lambda f, m: None)
    say(0.02, "text sentiment")
    texts = update_text_sentiment(wh)
    if not Sources(wh).available("subscriptions"):
        return {"text_sentiment": texts, ACCOUNT_SIGNALS.name: 0}
    say(0.04, "event summary")
    refresh_event_summary(wh, model.signals)
    new, adding = _new_dates(wh, as_of, full)
    parts = batches(new, _accounts(wh))
    if adding:
        _replace_dates(wh, ACCOUNT_SIGNALS.name, "score_date", new)
    rows = 0
    with Sources(wh, cache=True) as src:
        for i, days in enumerate(parts):
            say(0.05 + 0.95 * i / len(parts), f"signals {days[0]} to {days[-1]} ({len(new)} dates)")
            expr = compute_signals(src, days, model.signals)
            if i == 0 and not adding:
                wh.write_table(ACCOUNT_SIGNALS.name, expr)
            else:
                wh.append(ACCOUNT_SIGNALS.name, expr)
            t = wh.table(ACCOUNT_SIGNALS.name)
            rows += int(t.filter(t.score_date.isin(days)).count().execute())
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


def _json_numbers(values: np.ndarray, decimals: int) -> pa.Array:
    """JSON text of each value rounded to ``decimals`` ("null" for NaN), vectorised."""
    rounded = np.round(np.asarray(values, dtype="float64"), decimals)
    return pc.fill_null(pc.cast(pa.array(rounded, from_pandas=True), pa.string()), "null")


def _concat(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation of string arrays and literals (null if any part is)."""
    return pc.binary_join_element_wise(*parts, "")


def drivers_between(now: pd.DataFrame, before: pd.DataFrame, model: HealthModel, top: int = 3) -> list[str]:
    """JSON list per row of ``now``: the measures whose contribution moved the score most.

    ``now`` and ``before`` are aligned scored frames (same accounts, row by row;
    ``before`` rows may be all-NaN where there is no earlier score). Each item:
    ``signal``, ``group``, ``delta`` (2 decimals), ``points_from`` and
    ``points_to`` (1 decimal); moves under 0.05 points are left out. Built with
    Arrow string kernels, not a Python loop: a daily backfill has millions of rows.
    """
    n = len(now)
    if n == 0:
        return []
    sigs = [m.signal for _, m in model.measures()]
    group_of = {m.signal: g.name for g, m in model.measures()}
    c_now = now[[CONTRIB_PREFIX + s for s in sigs]].to_numpy(dtype="float64")
    c_before = before[[CONTRIB_PREFIX + s for s in sigs]].to_numpy(dtype="float64")
    delta = c_now - c_before
    has_before = ~np.isnan(before["score"].to_numpy(dtype="float64"))
    order = np.argsort(-np.abs(np.nan_to_num(delta)), axis=1, kind="stable")[:, :top]
    p_now = now[[POINTS_PREFIX + s for s in sigs]].to_numpy(dtype="float64")
    p_before = before[[POINTS_PREFIX + s for s in sigs]].to_numpy(dtype="float64")
    sig_json = np.array([json.dumps(s) for s in sigs], dtype=object)
    group_json = np.array([json.dumps(group_of[s]) for s in sigs], dtype=object)
    rows = np.arange(n)
    parts: list[pa.Array | str] = ["["]
    for slot in range(order.shape[1]):
        j = order[:, slot]
        d = delta[rows, j]
        # the valid moves come first in ``order`` (sorted by size, all >= 0.05)
        valid = pa.array(has_before & ~np.isnan(d) & (np.abs(np.nan_to_num(d)) >= 0.05))
        item = _concat(
            '{"signal": ', pa.array(sig_json[j], pa.string()),
            ', "group": ', pa.array(group_json[j], pa.string()),
            ', "delta": ', _json_numbers(d, 2),
            ', "points_from": ', _json_numbers(p_before[rows, j], 1),
            ', "points_to": ', _json_numbers(p_now[rows, j], 1), "}",
        )  # fmt: skip
        if slot:
            parts.append(pc.if_else(valid, ", ", ""))
        parts.append(pc.if_else(valid, item, ""))
    parts.append("]")
    return _concat(*parts).to_pylist()


def _missing_json(missing: pd.Series) -> list[str]:
    """JSON of each row's list of redistributed measures (rows share list objects)."""
    cache: dict[int, str] = {}
    out = []
    for m in missing:
        key = id(m)
        if key not in cache:
            cache[key] = json.dumps(m)
        out.append(cache[key])
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
    parts: list[pa.Array | str] = []
    for i, g in enumerate(model.groups):
        parts += [("{" if i == 0 else ", ") + json.dumps(g.name) + ": ",
                  _json_numbers(scored[f"{g.name}_score"].to_numpy(dtype="float64"), 2)]  # fmt: skip
    cols["group_scores"] = _concat(*parts, "}") if n and parts else ["{}"] * n
    cols["model_version"] = [model.version_id] * n
    cols["drivers"] = drivers
    cols["missing"] = _missing_json(scored["missing"])
    cols["computed_at"] = [now] * n
    arrays = [c if isinstance(c := cols[f.name], pa.Array) else pa.array(c, f.type, from_pandas=True) for f in schema]
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
    """Score every stored signal date not yet scored (and the as-of date again); write events.

    Dates are scored oldest first in batches of days, each batch seeing the
    colours the batches before it stored (so a colour change on a batch's first
    day is still an event).
    """
    say = progress or (lambda f, m: None)
    all_days = signal_dates(wh)
    st = wh.table(HEALTH_SCORES.name)
    scored_days = set(st.select("score_date").distinct().to_pyarrow()["score_date"].to_pylist())
    to_score = sorted(d for d in all_days if d not in scored_days or d == as_of)
    if not to_score:
        return {HEALTH_SCORES.name: 0, HEALTH_EVENTS.name: 0}
    latest_through = _latest_through(wh)  # before anything is replaced
    _replace_dates(wh, HEALTH_SCORES.name, "score_date", to_score)
    _replace_dates(wh, HEALTH_EVENTS.name, "event_date", to_score)
    refs = _reference_dates(all_days, to_score)
    parts = batches(to_score, _accounts(wh), rows=SCORE_BATCH_ROWS)
    counts = {HEALTH_SCORES.name: 0, HEALTH_EVENTS.name: 0}
    # only new days after everything ``health_latest`` holds: it has each account's
    # colour before them, without reading the whole history
    adds_days = latest_through is not None and to_score[0] > latest_through
    previous = _latest_rows(wh) if adds_days else _latest_colours(wh, to_score[0])
    for i, days in enumerate(parts):
        say(0.05 + 0.95 * i / len(parts), f"scoring {days[0]} to {days[-1]} ({len(to_score)} dates)")
        previous, n_scores, n_events = _score_batch(wh, model, days, refs, previous)
        counts[HEALTH_SCORES.name] += n_scores
        counts[HEALTH_EVENTS.name] += n_events
    update_latest(wh, after=latest_through if adds_days else None)
    return counts


RECENT_WEEKS = 12
"""``health_recent`` holds the latest scoring date and every 7 days before it over this
many weeks: the portfolio's current health and its trend, without reading the history."""


def update_recent(wh: Warehouse) -> int:
    """Rewrite ``health_recent`` from ``health_scores``; return its rows."""
    hs = wh.table(HEALTH_SCORES.name)
    latest = hs.score_date.max().to_pyarrow().as_py()
    days = [latest - timedelta(days=7 * k) for k in range(RECENT_WEEKS + 1)] if latest else []
    cols = list(HEALTH_RECENT.ibis_schema().names)
    recent = hs.filter(hs.score_date.isin(days)) if days else hs.filter(hs.score_date.isnull())
    wh.write_table(HEALTH_RECENT.name, recent.select(*cols).order_by(["account_id", "score_date"]))
    return wh.count(HEALTH_RECENT.name)


def _latest_through(wh: Warehouse) -> date | None:
    """The newest date in ``health_latest`` when it is the latest row of every account
    in ``health_scores`` (it was written from them after the last scoring); else None."""
    if not wh.has_table(HEALTH_LATEST.name):
        return None
    mine = wh.table(HEALTH_LATEST.name).score_date.max().to_pyarrow().as_py()
    theirs = wh.table(HEALTH_SCORES.name).score_date.max().to_pyarrow().as_py()
    return mine if mine is not None and mine == theirs else None


def _latest_rows(wh: Warehouse) -> pd.DataFrame:
    """``account_id, score_date, color`` of ``health_latest``."""
    t = wh.table(HEALTH_LATEST.name)
    return t.select("account_id", "score_date", "color").to_pyarrow().to_pandas()


def update_latest(wh: Warehouse, *, after: date | None = None) -> int:
    """Rewrite ``health_latest`` (each account's own latest score row); return its rows.

    With ``after`` (every score dated after it is new, and ``health_latest`` held the
    latest rows up to it) only the new rows are read: each account's newest of them
    replaces its row. Otherwise the whole of ``health_scores`` is read."""
    hs = wh.table(HEALTH_SCORES.name)
    cols = list(HEALTH_LATEST.ibis_schema().names)
    if after is not None:
        new = hs.filter(hs.score_date > after).select(*cols)
        old = wh.table(HEALTH_LATEST.name).select(*cols)
        hs = old.anti_join(new, "account_id").union(new)
    last = hs.group_by("account_id").aggregate(_last=hs.score_date.max())
    latest = hs.join(last, [hs.account_id == last.account_id, hs.score_date == last._last])
    wh.write_table(HEALTH_LATEST.name, latest.select(*[hs[c] for c in cols]).order_by("account_id"))
    return wh.count(HEALTH_LATEST.name)


SCORE_BATCH_ROWS = 400_000
"""Account-days scored per batch. Scoring is in pandas: each row carries every signal,
its points and contribution (about 150 columns), and a batch also loads the reference
day of each of its days, so a row costs about 8 KB at the peak. 2M-row batches, right
for the signals query, ran a 100k-account backfill out of 24 GB."""


def _latest_colours(wh: Warehouse, before: date) -> pd.DataFrame:
    """``account_id, score_date, color`` of each account's latest score before ``before``."""
    st = wh.table(HEALTH_SCORES.name)
    prior = st.filter(st.score_date < before)
    last = prior.group_by("account_id").aggregate(_m=prior.score_date.max())
    j = prior.join(last, [prior.account_id == last.account_id, prior.score_date == last._m])
    return j.select(prior.account_id, prior.score_date, prior.color).to_pyarrow().to_pandas()


def _score_batch(
    wh: Warehouse, model: HealthModel, days: list[date], refs: dict[date, date], previous: pd.DataFrame
) -> tuple[pd.DataFrame, int, int]:
    """Score ``days`` (consecutive, after every stored score), store scores and colour changes.

    ``previous`` holds each account's latest colour before ``days``; returns the
    same after them, for the next batch.
    """
    wanted = set(days) | {refs[d] for d in days if d in refs}
    sig = load_signals(wh, sorted(wanted))
    scored = score_frame(sig, model)
    now = scored[scored["score_date"].isin(days)].reset_index(drop=True)
    ref_key = now[["account_id"]].assign(score_date=now["score_date"].map(refs))
    before = ref_key.merge(scored, on=["account_id", "score_date"], how="left")
    now["drivers"] = drivers_between(now, before, model)
    scores_tbl = _scores_table(now, now["drivers"].tolist(), model)
    wh.append(HEALTH_SCORES.name, scores_tbl)
    events = _events(now[["account_id", "score_date", "color", "score", "drivers"]], previous, model)
    if events.num_rows:
        wh.append(HEALTH_EVENTS.name, events)
    cols = ["account_id", "score_date", "color"]
    latest = pd.concat([previous[cols], now[cols]], ignore_index=True)
    latest = latest.sort_values(["account_id", "score_date"], kind="stable").drop_duplicates("account_id", keep="last")
    return latest.reset_index(drop=True), scores_tbl.num_rows, events.num_rows
