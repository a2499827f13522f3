"""`helix health explain`: one account's score on one date, measure by measure, and why it moved.

The active model scores the stored signals of the date (and of the latest date
at least 28 days earlier) for every account, so percentile measures rank the
account among its peers exactly as the daily history did.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd

from helix.errors import NotFoundError, UserError
from helix.health.data import load_signals, signal_dates
from helix.health.model import HealthModel
from helix.health.scoring import POINTS_PREFIX, score_frame
from helix.signals.registry import signal
from helix.warehouse import Warehouse
from helix.warehouse.schema import HEALTH_SCORES

__all__ = ["explain", "LOOKBACK_DAYS"]

LOOKBACK_DAYS = 28


def _num(x: Any) -> float | None:
    if x is None or (isinstance(x, float) and x != x) or pd.isna(x):
        return None
    return float(x)


def _fmt(x: Any) -> str:
    v = _num(x)
    if v is None:
        return "no data"
    return f"{v:.0f}" if float(v).is_integer() or abs(v) >= 100 else f"{v:.2f}"


def _group_points(row: pd.Series, model: HealthModel) -> dict[str, dict[str, float]]:
    """Per group: each measure's share of the group and its contribution to the group score."""
    out: dict[str, dict[str, float]] = {}
    for g in model.groups:
        present = {m.signal: m.weight for m in g.measures if _num(row[POINTS_PREFIX + m.signal]) is not None}
        total = sum(present.values())
        out[g.name] = {
            m.signal: (present.get(m.signal, 0.0) / total * float(row[POINTS_PREFIX + m.signal]))
            if total and m.signal in present else 0.0
            for m in g.measures
        }
    return out


def _reason(sig: str, raw_now: pd.Series, raw_before: pd.Series, since: date) -> str:
    if sig in ("champion_present", "champion_left_180"):
        left_on = raw_now.get("champion_left_on")
        if left_on is not None and not pd.isna(left_on) and left_on >= since:
            name = raw_now.get("champion_left_name") or "the champion"
            return f"champion {name} left on {left_on.isoformat()}"
    spec = signal(sig)
    if spec.unit == "flag":
        now, before = _num(raw_now.get(sig)), _num(raw_before.get(sig))
        state = {1.0: "yes", 0.0: "no", None: "no data"}
        return f"{sig.replace('_', ' ')}: {state.get(before, _fmt(before))} -> {state.get(now, _fmt(now))}"
    return f"{sig.replace('_', ' ')} {_fmt(raw_before.get(sig))} -> {_fmt(raw_now.get(sig))} ({spec.unit})"


def explain(wh: Warehouse, model: HealthModel, account_id: str, on: date | None = None) -> dict[str, Any]:
    """The score of ``account_id`` on ``on`` (default: the latest scoring date) explained."""
    days = signal_dates(wh)
    if not days:
        raise UserError("no health signals yet", hint="run `helix run` first")
    target = on or days[-1]
    usable = [d for d in days if d <= target]
    if not usable:
        raise NotFoundError(f"no scores on or before {target} (history starts {days[0]})")
    d = usable[-1]
    earlier = [x for x in days if x <= d - timedelta(days=LOOKBACK_DAYS)]
    ref = earlier[-1] if earlier else None
    sig = load_signals(wh, [d] if ref is None else [ref, d])
    scored = score_frame(sig, model)
    mine = sig["account_id"] == account_id
    now_mask = (mine & (sig["score_date"] == d)).to_numpy()
    if not now_mask.any():
        raise NotFoundError(f"account {account_id!r} has no health score on {d}",
                            hint="only accounts with MRR above zero are scored")
    raw_now, row_now = sig[now_mask].iloc[0], scored[now_mask].iloc[0]
    before_mask = (mine & (sig["score_date"] == ref)).to_numpy() if ref else now_mask & False
    has_before = bool(before_mask.any())
    raw_before = sig[before_mask].iloc[0] if has_before else pd.Series(dtype=object)
    row_before = scored[before_mask].iloc[0] if has_before else None
    gp_now = _group_points(row_now, model)
    gp_before = _group_points(row_before, model) if row_before is not None else None
    groups = []
    for g in model.groups:
        measures = []
        for m in g.measures:
            spec = signal(m.signal)
            pts = _num(row_now[POINTS_PREFIX + m.signal])
            measures.append({
                "signal": m.signal,
                "description": spec.description,
                "unit": spec.unit,
                "value": _num(raw_now.get(m.signal)),
                "points": None if pts is None else round(pts, 1),
                "weight": m.weight,
                "missing": pts is None,
                "missing_rule": m.missing,
                "group_points": round(gp_now[g.name][m.signal], 2),
                "score_points": round(float(row_now["c__" + m.signal]), 2),
            })
        gs = _num(row_now[f"{g.name}_score"])
        groups.append({"group": g.name, "weight": g.weight, "score": None if gs is None else round(gs, 1),
                       "measures": measures})
    changes = []
    if row_before is not None and gp_before is not None:
        for g, m in model.measures():
            delta_score = float(row_now["c__" + m.signal]) - float(row_before["c__" + m.signal])
            delta_group = gp_now[g.name][m.signal] - gp_before[g.name][m.signal]
            if abs(delta_score) < 0.05 and abs(delta_group) < 0.5:
                continue
            reason = _reason(m.signal, raw_now, raw_before, ref)  # type: ignore[arg-type]
            changes.append({
                "signal": m.signal,
                "group": g.name,
                "value_from": _num(raw_before.get(m.signal)),
                "value_to": _num(raw_now.get(m.signal)),
                "group_delta": round(delta_group, 1),
                "score_delta": round(delta_score, 1),
                "reason": reason,
                "text": f"{reason}: {g.name} {delta_group:+.0f}",
            })
        changes.sort(key=lambda c: -abs(c["score_delta"]))
    color = row_now["color"]
    response = model.responses.get(color) if color else None
    stored = _stored(wh, account_id, d)
    return {
        "account_id": account_id,
        "score_date": d.isoformat(),
        "score": round(float(row_now["score"]), 1),
        "color": color,
        "model_version": model.version_id,
        "response": response.to_dict() if response else None,
        "groups": groups,
        "missing": list(row_now["missing"]),
        "compared_with": None if ref is None or not has_before else {
            "score_date": ref.isoformat(),
            "score": round(float(row_before["score"]), 1),  # type: ignore[index]
            "color": row_before["color"],  # type: ignore[index]
        },
        "changes": changes,
        "stored": stored,
    }


def _stored(wh: Warehouse, account_id: str, d: date) -> dict[str, Any] | None:
    """The row the daily history holds for that date (its model version may differ)."""
    if not wh.has_table(HEALTH_SCORES.name):
        return None
    t = wh.table(HEALTH_SCORES.name)
    rows = t.filter((t.account_id == account_id) & (t.score_date == d)).select(
        "score", "color", "model_version"
    ).to_pyarrow().to_pylist()
    return rows[0] if rows else None
