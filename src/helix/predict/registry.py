"""Trained models, versioned in the data directory: ``<home>/models/<target>-<N>d/<version>/``.

Each version holds ``model.joblib`` (the fitted, calibrated model) and
``meta.json`` (target, horizon, when, the data window, features, the
candidates' validation AUCs, the calibration chosen and the backtest
figures). The newest version of a target and horizon is the active one; the
pipeline stage ``predictions`` scores with every active model.
"""

from __future__ import annotations

import json
import secrets
import shutil
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from helix.errors import NotFoundError
from helix.health.model import HealthModel
from helix.predict.backtest import backtest
from helix.predict.drift import drift_report, profile
from helix.predict.models import FittedModel, select_and_fit
from helix.predict.training import LABEL, Target, model_features, training_frame
from helix.warehouse import Warehouse

__all__ = [
    "ModelInfo",
    "train_model",
    "list_models",
    "active_models",
    "load_model",
    "MODELS_CHANGE",
    "drift",
]

MODELS_CHANGE = "prediction_models"
"""Change-log name recorded when a model is trained (so `helix run` scores again)."""


@dataclass
class ModelInfo:
    """The metadata of one registered model version."""

    version: str
    target: str
    horizon_days: int
    trained_at: str
    data_from: str
    data_to: str
    n_rows: int
    base_rate: float
    candidate: str
    calibration: str | None
    candidates: dict[str, Any]
    features: list[str]
    backtest: dict[str, Any] = field(default_factory=dict)
    profile: dict[str, Any] = field(default_factory=dict)  # training distributions (drift.py)
    active: bool = False

    def to_dict(self, with_profile: bool = False) -> dict[str, Any]:
        """The metadata as JSON-ready data (the training profile only when asked)."""
        data = asdict(self)
        if not with_profile:
            data.pop("profile")
        return data


def _root(home: Path) -> Path:
    return home / "models"


def train_model(
    wh: Warehouse,
    home: Path,
    target: Target,
    horizon_days: int,
    health_model: HealthModel,
    *,
    with_backtest: bool = True,
) -> ModelInfo:
    """Fit ``target`` on every labelled observation, backtest it, store a new version."""
    frame = training_frame(wh, horizon_days)
    label = LABEL[target]
    fitted = select_and_fit(frame, label, model_features(frame), horizon_days)
    report = backtest(frame, target, horizon_days, health_model) if with_backtest else {}
    for r in fitted.validation.values():
        r.pop("_model", None)  # only the active candidate is kept
    now = datetime.now(UTC)
    version = f"{now:%Y%m%dT%H%M%S}-{secrets.token_hex(2)}"
    days = sorted(set(frame["score_date"]))
    info = ModelInfo(
        version=version,
        target=target,
        horizon_days=horizon_days,
        trained_at=now.isoformat(timespec="seconds"),
        data_from=days[0].isoformat(),
        data_to=days[-1].isoformat(),
        n_rows=len(frame),
        base_rate=round(float(frame[label].mean()), 4),
        candidate=fitted.name,
        calibration=fitted.calibration,
        candidates={
            n: {"validation_auc": r.get("validation_auc")} for n, r in fitted.validation.items()
        },
        features=fitted.numeric,
        backtest={
            k: report.get(k)
            for k in (
                "auc",
                "pr_auc",
                "top_decile_lift",
                "brier",
                "ece",
                "baseline_auc",
                "health_score_auc",
                "n_train",
                "n_test",
                "test_dates",
            )
            if k in report
        },  # fmt: skip
        profile=profile(frame, fitted.numeric),
    )
    folder = _root(home) / f"{target}-{horizon_days}d"
    tmp = folder / f".{version}"
    tmp.mkdir(parents=True)
    try:
        import joblib

        joblib.dump(fitted, tmp / "model.joblib")
        (tmp / "meta.json").write_text(
            json.dumps(info.to_dict(with_profile=True)), encoding="utf-8"
        )
        tmp.rename(folder / version)  # whole or not at all
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    wh.record_change(MODELS_CHANGE, note=f"model {target}-{horizon_days}d {version}")
    info.active = True
    return info


def list_models(home: Path) -> list[ModelInfo]:
    """Every registered version, newest first within each target and horizon."""
    out = []
    root = _root(home)
    if not root.is_dir():
        return []
    for folder in sorted(root.iterdir()):
        versions = sorted((p for p in folder.iterdir() if (p / "meta.json").exists()), reverse=True)
        for i, path in enumerate(versions):
            info = ModelInfo(
                **{**json.loads((path / "meta.json").read_text(encoding="utf-8")), "active": i == 0}
            )
            out.append(info)
    return out


def active_models(home: Path) -> list[ModelInfo]:
    """The newest version of each target and horizon."""
    return [m for m in list_models(home) if m.active]


def load_model(home: Path, info: ModelInfo) -> FittedModel:
    """The fitted model of a registered version."""
    import joblib

    path = _root(home) / f"{info.target}-{info.horizon_days}d" / info.version / "model.joblib"
    if not path.exists():
        raise NotFoundError(f"model {info.version} has no stored file", hint="train it again")
    model = joblib.load(path)  # written by this data directory's own `helix predict train`
    assert isinstance(model, FittedModel)
    return model


def predict_frame(fitted: FittedModel, frame: pd.DataFrame) -> pd.DataFrame:
    """``account_id, probability, drivers`` for the rows of ``frame``."""
    from helix.predict.drivers import top_drivers

    return pd.DataFrame(
        {
            "account_id": frame["account_id"].to_numpy(),
            "probability": fitted.predict(frame),
            "drivers": top_drivers(fitted, frame),
        }
    )


def drift(home: Path, wh: Warehouse, day: Any) -> list[dict[str, Any]]:
    """For each active model: how far the rows of ``day`` have moved from its training data."""
    from helix.predict.training import scoring_frame

    out = []
    for info in active_models(home):
        frame = scoring_frame(wh, day, load_model(home, info).event_types)
        out.append(
            {
                "version": info.version,
                "target": info.target,
                "horizon_days": info.horizon_days,
                **drift_report(info.profile, frame),
            }
        )
    return out
