"""Stage ``predictions`` of `helix run` (order 40): every active model scores every account.

Scores the signals of the as-of date (or the latest stored date before it)
with each active registered model and writes ``predictions``; rows of that
date and model target are replaced, earlier dates are kept (the history of
what was predicted, and by which version). With an active survival model
(`helix predict survival train`) it also writes each account's time to churn
into ``churn_timing``, the same way.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import pyarrow as pa

from helix.health.data import signal_dates
from helix.pipeline.registry import Stage, StageContext, StageResult, register
from helix.predict.registry import MODELS_CHANGE, active_models, load_model, predict_frame
from helix.predict.survival import HORIZONS
from helix.predict.survival_registry import active_survival, load_survival
from helix.predict.training import scoring_frame
from helix.warehouse import Warehouse
from helix.warehouse.connection import utcnow
from helix.warehouse.schema import ACCOUNT_SIGNALS, CHURN_TIMING, PREDICTIONS

__all__ = ["STAGE"]


def _run(ctx: StageContext) -> StageResult:
    wh = ctx.warehouse
    if ctx.settings is None:
        return StageResult(rows={PREDICTIONS.name: 0}, notes=["no data directory: no models"])
    home = ctx.settings.home
    models = active_models(home)
    timing = active_survival(home)
    if not models and timing is None:
        return StageResult(
            rows={PREDICTIONS.name: 0},
            notes=["no trained model yet: `helix predict train` registers one"],
        )
    days = [d for d in signal_dates(wh) if d <= ctx.as_of]
    if not days:
        return StageResult(rows={PREDICTIONS.name: 0}, notes=["no signals to score"])
    day = days[-1]
    rows: dict[str, int] = {}
    notes = []
    if models:
        rows[PREDICTIONS.name] = _score_classifiers(ctx, models, day)
        notes.append(f"{len(models)} model(s) scored {day}")
    if timing is not None:
        ctx.progress(0.95, "time to churn")
        rows[CHURN_TIMING.name] = _score_timing(wh, home, timing, day)
        notes.append(f"survival model {timing['version']} scored {day}")
    return StageResult(rows=rows, notes=notes)


def _score_classifiers(ctx: StageContext, models: list[Any], day: date) -> int:
    wh = ctx.warehouse
    t = wh.table(PREDICTIONS.name)
    keep = t.filter(t.score_date != day)
    tables = []
    for i, info in enumerate(models):
        ctx.progress((i + 0.5) / len(models), f"{info.target} within {info.horizon_days} days")
        fitted = load_model(ctx.settings.home, info)
        out = predict_frame(fitted, scoring_frame(wh, day, fitted.event_types))
        n = len(out)
        tables.append(
            pa.Table.from_pydict(
                {
                    "account_id": out["account_id"].tolist(),
                    "score_date": pa.array([day] * n, pa.date32()),
                    "target": [info.target] * n,
                    "horizon_days": pa.array([info.horizon_days] * n, pa.int64()),
                    "probability": out["probability"].round(6).tolist(),
                    "model_version": [info.version] * n,
                    "candidate": [info.candidate] * n,
                    "drivers": out["drivers"].tolist(),
                    "computed_at": pa.array([utcnow()] * n, pa.timestamp("us")),
                },
                schema=PREDICTIONS.ibis_schema().to_pyarrow(),
            )
        )
    wh.write_parts(PREDICTIONS.name, [keep, *tables])
    return sum(x.num_rows for x in tables)


def _score_timing(wh: Warehouse, home: Any, meta: dict[str, Any], day: date) -> int:
    model = load_survival(home, meta)
    out = model.timing(scoring_frame(wh, day, meta.get("event_types") or None))
    n = len(out)
    table = pa.Table.from_pydict(
        {
            "account_id": out["account_id"].tolist(),
            "score_date": pa.array([day] * n, pa.date32()),
            **{f"p_churn_{h}": out[f"p_churn_{h}"].tolist() for h in HORIZONS},
            "months_to_churn": pa.array(
                [None if pd.isna(m) else int(m) for m in out["months_to_churn"]], pa.int64()
            ),
            "model_version": [meta["version"]] * n,
            "computed_at": pa.array([utcnow()] * n, pa.timestamp("us")),
        },
        schema=CHURN_TIMING.ibis_schema().to_pyarrow(),
    )
    t = wh.table(CHURN_TIMING.name)
    wh.write_parts(CHURN_TIMING.name, [t.filter(t.score_date != day), table])
    return n


STAGE = register(
    Stage(
        name="predictions",
        order=40,
        inputs=(ACCOUNT_SIGNALS.name, MODELS_CHANGE, "accounts"),
        outputs=(PREDICTIONS.name, CHURN_TIMING.name),
        run=_run,
        description=(
            "Churn, expansion and contraction probabilities of the active models, with drivers."
        ),
    )
)
