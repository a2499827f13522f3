"""Stage ``predictions`` of `helix run` (order 40): every active model scores every account.

Scores the signals of the as-of date (or the latest stored date before it)
with each active registered model and writes ``predictions``; rows of that
date and model target are replaced, earlier dates are kept (the history of
what was predicted, and by which version).
"""

from __future__ import annotations

import pyarrow as pa

from helix.health.data import signal_dates
from helix.pipeline.registry import Stage, StageContext, StageResult, register
from helix.predict.registry import MODELS_CHANGE, active_models, load_model, predict_frame
from helix.predict.training import scoring_frame
from helix.warehouse.connection import utcnow
from helix.warehouse.schema import ACCOUNT_SIGNALS, PREDICTIONS

__all__ = ["STAGE"]


def _run(ctx: StageContext) -> StageResult:
    wh = ctx.warehouse
    if ctx.settings is None:
        return StageResult(rows={PREDICTIONS.name: 0}, notes=["no data directory: no models"])
    models = active_models(ctx.settings.home)
    if not models:
        return StageResult(
            rows={PREDICTIONS.name: 0},
            notes=["no trained model yet: `helix predict train` registers one"],
        )
    days = [d for d in signal_dates(wh) if d <= ctx.as_of]
    if not days:
        return StageResult(rows={PREDICTIONS.name: 0}, notes=["no signals to score"])
    day = days[-1]
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
    rows = sum(x.num_rows for x in tables)
    return StageResult(
        rows={PREDICTIONS.name: rows}, notes=[f"{len(models)} model(s) scored {day}"]
    )


STAGE = register(
    Stage(
        name="predictions",
        order=40,
        inputs=(ACCOUNT_SIGNALS.name, MODELS_CHANGE, "accounts"),
        outputs=(PREDICTIONS.name,),
        run=_run,
        description="Churn, expansion and contraction probabilities of the active models, with drivers.",
    )
)
