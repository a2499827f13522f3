"""Stage ``expansion`` of `helix run` (order 45, after predictions): CS-qualified leads.

Detects the expansion signals of the as-of date with the active configuration
(:mod:`helix.predict.expansion_config`) and writes ``expansion_leads``: rows of
that date are replaced, earlier dates are kept.
"""

from __future__ import annotations

from helix.pipeline.registry import Stage, StageContext, StageResult, register
from helix.predict.expansion import update_leads
from helix.predict.expansion_config import CONFIG_CHANGE, ExpansionConfig, active_config
from helix.warehouse.schema import ACCOUNT_SIGNALS, EXPANSION_LEADS, MRR_MOVEMENTS, PREDICTIONS

__all__ = ["STAGE"]


def _config(ctx: StageContext) -> ExpansionConfig:
    if ctx.settings is None:
        return ExpansionConfig()
    from helix.store import open_store

    store = open_store(ctx.settings.database_url)
    try:
        return active_config(store)
    finally:
        store.close()


def _run(ctx: StageContext) -> StageResult:
    ctx.progress(0.1, "detecting expansion signals")
    run = update_leads(ctx.warehouse, ctx.as_of, _config(ctx))
    counts = ", ".join(f"{n} {s}" for s, n in sorted(run.by_signal.items())) or "no leads"
    notes = [f"{run.detected_on}: {counts}", *run.notes] if run.detected_on else run.notes
    return StageResult(rows={EXPANSION_LEADS.name: run.rows}, notes=notes)


STAGE = register(
    Stage(
        name="expansion",
        order=45,
        inputs=(
            ACCOUNT_SIGNALS.name,
            PREDICTIONS.name,
            MRR_MOVEMENTS.name,
            "accounts",
            "subscriptions",
            "events",
            CONFIG_CHANGE,
        ),
        outputs=(EXPANSION_LEADS.name,),
        run=_run,
        description="Expansion signals (seats or usage near the limit, adoption spreading, "
        "predicted expansion) as CS-qualified leads with a suggested motion.",
    )
)
