"""Time-to-churn models, versioned in the data directory: ``<home>/survival/<version>/``.

Each version holds ``model.joblib`` (:class:`~helix.predict.survival.SurvivalModel`)
and ``meta.json`` (when, the data window, rows and churns, the penalty, the
features and the backtest figures). The newest version is the active one; the
``predictions`` stage scores every account with it into ``churn_timing``.
"""

from __future__ import annotations

import json
import secrets
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from helix.errors import NotFoundError
from helix.health.model import HealthModel
from helix.predict.registry import MODELS_CHANGE
from helix.predict.survival import (
    SurvivalModel,
    backtest_survival,
    choose_penalizer,
    fit_survival,
    survival_frame,
)
from helix.warehouse import Warehouse

__all__ = ["train_survival", "list_survival", "active_survival", "load_survival"]


def _root(home: Path) -> Path:
    return home / "survival"


def train_survival(
    wh: Warehouse, home: Path, health_model: HealthModel | None, *, with_backtest: bool = True
) -> dict[str, Any]:
    """Backtest, fit on every observation and store a new version; returns its metadata."""
    frame = survival_frame(wh)
    report = backtest_survival(frame, health_model) if with_backtest else {}
    penalizer = choose_penalizer(frame)
    model = fit_survival(frame, penalizer=penalizer)
    now = datetime.now(UTC)
    version = f"{now:%Y%m%dT%H%M%S}-{secrets.token_hex(2)}"
    days = sorted(set(frame["score_date"]))
    meta = {
        "version": version,
        "kind": "cox",
        "trained_at": now.isoformat(timespec="seconds"),
        "data_from": days[0].isoformat(),
        "data_to": days[-1].isoformat(),
        "n_rows": len(frame),
        "events": int(frame["event"].sum()),
        "penalizer": penalizer,
        "concordance_train": model.concordance_train,
        "features": model.numeric,
        "event_types": list(frame.attrs.get("event_types", [])),
        "backtest": report,
    }
    tmp = _root(home) / f".{version}"
    tmp.mkdir(parents=True)
    try:
        import joblib

        joblib.dump(model, tmp / "model.joblib")
        (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        tmp.rename(_root(home) / version)  # whole or not at all
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    wh.record_change(MODELS_CHANGE, note=f"survival model {version}")
    return {**meta, "active": True}


def list_survival(home: Path) -> list[dict[str, Any]]:
    """Every stored version's metadata, newest (the active one) first."""
    root = _root(home)
    if not root.is_dir():
        return []
    paths = sorted((p for p in root.iterdir() if (p / "meta.json").exists()), reverse=True)
    return [
        {**json.loads((p / "meta.json").read_text(encoding="utf-8")), "active": i == 0}
        for i, p in enumerate(paths)
    ]


def active_survival(home: Path) -> dict[str, Any] | None:
    """The active version's metadata, or None before the first `helix predict survival train`."""
    models = list_survival(home)
    return models[0] if models else None


def load_survival(home: Path, meta: dict[str, Any]) -> SurvivalModel:
    """The fitted model of a stored version."""
    import joblib

    path = _root(home) / meta["version"] / "model.joblib"
    if not path.exists():
        raise NotFoundError(
            f"survival model {meta['version']} has no stored file", hint="train it again"
        )
    model = joblib.load(path)  # written by this data directory's own `helix predict survival train`
    assert isinstance(model, SurvivalModel)
    return model
