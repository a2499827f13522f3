"""Stages of `helix run`: ``signals`` (order 30) and ``health`` (order 35)."""

from __future__ import annotations

from helix.health.active import MODEL_CHANGE_TABLE, active_model
from helix.health.history import update_recent, update_scores, update_signals
from helix.health.model import HealthModel
from helix.pipeline.registry import Stage, StageContext, StageResult, register
from helix.warehouse.schema import (
    ACCOUNT_SIGNALS,
    HEALTH_EVENTS,
    HEALTH_LATEST,
    HEALTH_RECENT,
    HEALTH_SCORES,
    TEXT_SENTIMENT,
)

__all__ = ["SIGNALS_STAGE", "HEALTH_STAGE"]


def _model(ctx: StageContext) -> HealthModel:
    if ctx.settings is None:
        return active_model(None)
    from helix.store import open_store

    store = open_store(ctx.settings.database_url)
    try:
        return active_model(store)
    finally:
        store.close()


def _run_signals(ctx: StageContext) -> StageResult:
    rows = update_signals(
        ctx.warehouse, _model(ctx), ctx.as_of, full=ctx.full, progress=ctx.progress
    )
    notes = []
    if rows.get(ACCOUNT_SIGNALS.name) == 0:
        notes.append("no active accounts to score (import subscriptions first)")
    return StageResult(rows=rows, notes=notes)


def _run_health(ctx: StageContext) -> StageResult:
    model = _model(ctx)
    rows = update_scores(ctx.warehouse, model, ctx.as_of, progress=ctx.progress)
    rows[HEALTH_RECENT.name] = update_recent(ctx.warehouse)
    rows[HEALTH_LATEST.name] = ctx.warehouse.count(HEALTH_LATEST.name)  # update_scores wrote it
    return StageResult(rows=rows, notes=[f"health model {model.name} version {model.version_id}"])


SIGNALS_STAGE = register(
    Stage(
        name="signals",
        order=30,
        inputs=(
            "accounts", "subscriptions", "events", "contacts", "activities", "tickets",
            "survey_responses", "payments", MODEL_CHANGE_TABLE,
        ),
        outputs=(TEXT_SENTIMENT.name, ACCOUNT_SIGNALS.name),
        run=_run_signals,
        description="Point-in-time usage, sentiment, relationship, onboarding and commercial signals.",
    )
)

HEALTH_STAGE = register(
    Stage(
        name="health",
        order=35,
        inputs=(ACCOUNT_SIGNALS.name, MODEL_CHANGE_TABLE),
        outputs=(HEALTH_SCORES.name, HEALTH_EVENTS.name, HEALTH_RECENT.name, HEALTH_LATEST.name),
        run=_run_health,
        description="Daily health scores, colours, drivers of change and colour-change events.",
    )
)
