"""The active health model: the app-store setting ``health.model``, else the shipped default."""

from __future__ import annotations

from typing import TYPE_CHECKING

from helix.health.model import HealthModel, default_model

if TYPE_CHECKING:
    from helix.store import AppStore

__all__ = ["MODEL_SETTING", "MODEL_CHANGE_TABLE", "active_model", "save_model"]

MODEL_SETTING = "health.model"
MODEL_CHANGE_TABLE = "health_model"
"""Name under which a model change is recorded in the warehouse's change log, so that
the health stage re-runs (it lists this name among its inputs)."""


def active_model(store: AppStore | None) -> HealthModel:
    """The model stored in ``health.model``, or the default model when none is set."""
    if store is None:
        return default_model()
    from helix.store.settings import get_setting

    with store.session() as session:
        data = get_setting(session, MODEL_SETTING)
    return default_model() if data is None else HealthModel.from_dict(data)


def save_model(store: AppStore, model: HealthModel, actor: str) -> None:
    """Make ``model`` the active one (the audit log keeps the previous definition)."""
    from helix.store.settings import set_setting

    with store.session() as session:
        set_setting(session, MODEL_SETTING, model.to_dict(), actor)
