"""Use cases behind `helix health ...` and the health API: one function per command."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from helix.errors import NotFoundError
from helix.health.active import MODEL_CHANGE_TABLE, active_model, save_model
from helix.health.backtest import Backtest, backtest
from helix.health.data import load_labelled
from helix.health.explain import explain
from helix.health.fit import FitReport, Target, fit_weights
from helix.health.model import HealthModel, default_model, load_model
from helix.signals import SIGNALS, Sources, available_signals
from helix.warehouse.schema import HEALTH_EVENTS, HEALTH_SCORES

if TYPE_CHECKING:
    from helix.platform import Platform
    from helix.warehouse import Warehouse

__all__ = [
    "run_backtest",
    "run_fit",
    "explain_account",
    "model_info",
    "set_model",
    "signal_registry",
    "account_health",
]


def run_backtest(platform: Platform, horizon_days: int = 90) -> Backtest:
    """Backtest the active model over the stored history."""
    wh = platform.warehouse
    labelled = load_labelled(wh, horizon_days)
    segments = wh.table("accounts").select("account_id", "segment").to_pyarrow().to_pandas()
    return backtest(labelled, active_model(platform.store), horizon_days=horizon_days, segments=segments)


def run_fit(
    platform: Platform,
    horizon_days: int = 90,
    *,
    target: Target = "churn",
    accept: bool = False,
    actor: str = "cli",
) -> tuple[FitReport, bool]:
    """Fit weights from the stored history; with ``accept`` make the proposal the active model."""
    wh = platform.warehouse
    report = fit_weights(load_labelled(wh, horizon_days), active_model(platform.store),
                         horizon_days=horizon_days, target=target)
    if accept:
        _activate(platform, report.proposed, actor)
    return report, accept


def _activate(platform: Platform, model: HealthModel, actor: str) -> None:
    save_model(platform.store, model, actor)
    platform.warehouse.record_change(MODEL_CHANGE_TABLE, note=f"health model {model.version_id}")


def set_model(platform: Platform, path: Path | None, *, actor: str = "cli") -> HealthModel:
    """Activate the model in ``path`` (or the shipped default when None), as a new version."""
    new = load_model(path) if path is not None else default_model()
    current = active_model(platform.store)
    if new.content_hash != current.content_hash:
        new = replace(new, version=max(new.version, current.version + 1))
        _activate(platform, new, actor)
    return active_model(platform.store)


def model_info(platform: Platform) -> dict[str, Any]:
    """The active model: definition, version and content hash."""
    model = active_model(platform.store)
    return {"version_id": model.version_id, "content_hash": model.content_hash, "model": model.to_dict()}


def explain_account(platform: Platform, account_id: str, on: date | None = None) -> dict[str, Any]:
    """The explained score of one account (see :func:`helix.health.explain.explain`)."""
    return explain(platform.warehouse, active_model(platform.store), account_id, on)


def signal_registry(wh: Warehouse) -> list[dict[str, Any]]:
    """Every signal with its description, unit, group and whether this warehouse has its data."""
    ok = available_signals(Sources(wh))
    return [{**s.to_dict(), "available": ok[s.name]} for s in SIGNALS]


def account_health(wh: Warehouse, account_id: str, *, days: int = 400) -> dict[str, Any]:
    """The stored history of one account's health (latest first) and its colour changes."""
    t = wh.table(HEALTH_SCORES.name)
    rows = (
        t.filter(t.account_id == account_id)
        .order_by([t.score_date.desc()])
        .limit(days)
        .to_pyarrow()
        .to_pylist()
    )
    if not rows:
        raise NotFoundError(f"no health history for account {account_id!r}", hint="run `helix run` first")
    e = wh.table(HEALTH_EVENTS.name)
    events = e.filter(e.account_id == account_id).order_by([e.event_date.desc()]).to_pyarrow().to_pylist()
    return {"account_id": account_id, "latest": rows[0], "history": rows, "events": events}
