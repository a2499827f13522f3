"""The JSON columns of ``health_scores`` are built with Arrow kernels; they must say
exactly what a plain Python loop over the rows would."""

from __future__ import annotations

import json
import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from helix.health.history import _scores_table, drivers_between
from helix.health.model import default_model
from helix.health.scoring import CONTRIB_PREFIX, POINTS_PREFIX, score_frame
from helix.signals import SIGNALS


def _loop_drivers(now: pd.DataFrame, before: pd.DataFrame, model, top: int = 3) -> list[list[dict]]:
    sigs = [m.signal for _, m in model.measures()]
    group_of = {m.signal: g.name for g, m in model.measures()}
    out = []
    for i in range(len(now)):
        if math.isnan(before["score"].iloc[i]):
            out.append([])
            continue
        deltas = [(now[CONTRIB_PREFIX + s].iloc[i] - before[CONTRIB_PREFIX + s].iloc[i], s) for s in sigs]
        ranked = sorted(range(len(sigs)), key=lambda j: -abs(np.nan_to_num(deltas[j][0])))[:top]
        items = []
        for j in ranked:
            d, s = deltas[j]
            if math.isnan(d) or abs(d) < 0.05:
                continue
            pb, pn = before[POINTS_PREFIX + s].iloc[i], now[POINTS_PREFIX + s].iloc[i]
            items.append({"signal": s, "group": group_of[s], "delta": round(float(d), 2),
                          "points_from": None if math.isnan(pb) else round(float(pb), 1),
                          "points_to": None if math.isnan(pn) else round(float(pn), 1)})  # fmt: skip
        out.append(items)
    return out


def _frame(rng: np.random.Generator, n: int) -> pd.DataFrame:
    cols = {s.name: rng.uniform(0, 50, n) for s in SIGNALS if s.dtype == "float64"}
    df = pd.DataFrame({"account_id": [f"A{i}" for i in range(n)], "score_date": [date(2025, 1, 1)] * n, **cols})
    for name in list(cols)[::3]:  # missing data, redistributed
        df.loc[rng.random(n) < 0.3, name] = np.nan
    return df


def test_drivers_and_group_scores_match_a_plain_loop() -> None:
    model = default_model()
    rng = np.random.default_rng(3)
    now = score_frame(_frame(rng, 300), model)
    before = score_frame(_frame(rng, 300), model)
    before.loc[::7, :] = np.nan  # no earlier score for some accounts
    before["score"] = before["score"].astype(float)
    before.loc[5, [c for c in before.columns if c.startswith(CONTRIB_PREFIX)]] = now.loc[
        5, [c for c in now.columns if c.startswith(CONTRIB_PREFIX)]
    ]  # nothing moved: no drivers
    got = [json.loads(x) for x in drivers_between(now, before, model)]
    want = _loop_drivers(now, before, model)
    assert got == want
    assert any(len(x) == 3 for x in got) and [] in got
    table = _scores_table(now, [json.dumps(x) for x in want], model).to_pylist()
    for row, (_, src) in zip(table, now.iterrows(), strict=True):
        groups = json.loads(row["group_scores"])
        assert list(groups) == [g.name for g in model.groups]
        for g in model.groups:
            v = src[f"{g.name}_score"]
            assert groups[g.name] == (None if math.isnan(v) else pytest.approx(round(v, 2)))
        assert json.loads(row["missing"]) == src["missing"]
