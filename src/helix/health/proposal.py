"""A stored weight proposal: `helix health fit` computed once, reviewed, then accepted.

Fitting can take a while on a large history, so the web page and the API do not
refit on every view: :func:`propose` runs the same fit as `helix health fit`
and keeps its report, with the proposed model and the date it was computed, in
the app-store setting ``health.proposal``. :func:`accept_proposal` then makes
the stored proposed model the active one through the same path as
``helix health fit --accept`` (a new model version, the previous definition in
the audit log, and a change record so the next `helix run` rescores).

A proposal is fitted against one active model: if the active model changed
since (someone accepted, or ran `helix health model --set`), accepting it is
refused until it is computed again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from helix.errors import UserError
from helix.health.active import active_model
from helix.health.fit import Target
from helix.health.model import HealthModel
from helix.health.service import _activate, run_fit
from helix.store.models import utcnow

if TYPE_CHECKING:
    from helix.platform import Platform

__all__ = ["PROPOSAL_SETTING", "StaleProposal", "propose", "get_proposal", "accept_proposal"]

PROPOSAL_SETTING = "health.proposal"


class StaleProposal(UserError):
    """The stored proposal was fitted against a model that is no longer the active one."""


def propose(
    platform: Platform, horizon_days: int = 90, *, target: Target = "churn", actor: str
) -> dict[str, Any]:
    """Fit weights as `helix health fit` does and store the proposal; return it."""
    from helix.store.settings import set_setting

    report, _ = run_fit(platform, horizon_days, target=target, accept=False, actor=actor)
    doc = {
        "computed_at": utcnow().isoformat(timespec="seconds"),
        "computed_by": actor,
        "report": report.to_dict(),
        "base_version": report.current.version_id,
        "proposed_model": report.proposed.to_dict(),
        "accepted_at": None,
        "accepted_by": None,
    }
    with platform.store.session() as session:
        set_setting(session, PROPOSAL_SETTING, doc, actor)
    return doc


def get_proposal(platform: Platform) -> dict[str, Any] | None:
    """The stored proposal (with ``stale`` saying whether it can still be accepted), or None."""
    from helix.store.settings import get_setting

    with platform.store.session() as session:
        doc = get_setting(session, PROPOSAL_SETTING)
    if doc is None:
        return None
    current = active_model(platform.store).version_id
    return {**doc, "active_version": current, "stale": doc["base_version"] != current}


def accept_proposal(platform: Platform, *, actor: str) -> dict[str, Any]:
    """Make the stored proposed model the active one, exactly as ``fit --accept`` does.

    Raises :class:`UserError` when there is no proposal or it was accepted
    already, :class:`StaleProposal` when the active model changed since the fit.
    """
    from helix.store.settings import set_setting

    doc = get_proposal(platform)
    if doc is None:
        raise UserError(
            "there is no weight proposal to accept", hint="compute one first (helix health fit)"
        )
    if doc["accepted_at"] is not None:
        raise UserError(
            f"this proposal was accepted already ({doc['accepted_at']} by {doc['accepted_by']})"
        )
    if doc["stale"]:
        raise StaleProposal(
            f"the proposal was fitted against model {doc['base_version']}, "
            f"but the active model is now {doc['active_version']}",
            hint="compute the proposal again",
        )
    model = HealthModel.from_dict(doc["proposed_model"])
    _activate(platform, model, actor)
    stored = {k: v for k, v in doc.items() if k not in ("stale", "active_version")}
    stored.update(accepted_at=utcnow().isoformat(timespec="seconds"), accepted_by=actor)
    with platform.store.session() as session:
        set_setting(session, PROPOSAL_SETTING, stored, actor)
    return {
        "version_id": model.version_id,
        "content_hash": model.content_hash,
        "model": model.to_dict(),
    }
