"""Evidence-based maturity scores: what Helix's own data says about three of the six
dimensions (technology and data, processes and playbooks, measurement and analytics)
and part of a fourth (organisation: coverage by owners and touch-model ratios).

Each dimension is a ladder of rungs, one per score, each a check on the facts
(:class:`helix.exec.facts.Facts`). The proposed score is the highest rung reached with
every rung below it passed too: maturity is cumulative, a predictive model on data
nobody refreshes is not "AI-powered intelligence". Every rung says what it checked and
what it found, so a leader can see why and disagree. Strategy and talent are not
visible in Helix's data: no proposal, say so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from helix.exec.facts import Facts
from helix.exec.frameworks import MATURITY, level_of

__all__ = ["Rung", "LADDERS", "propose", "AUC_PREDICTIVE"]

AUC_PREDICTIVE = 0.70
"""A backtested AUC at or above this counts as predictive (0.5 is chance)."""
AUC_STRONG = 0.80
"""The seeds' 80%+ accuracy for AI churn prediction."""


@dataclass(frozen=True)
class Rung:
    """One step of a ladder: the score it grants and the check (passed?, what was found)."""

    score: int
    label: str
    check: Callable[[Facts], tuple[bool, str]]


def _pct(x: float | None) -> str:
    return "unknown" if x is None else f"{x * 100:.1f}%"


def _backtest_auc(f: Facts) -> tuple[float | None, str]:
    if f.health_backtest and f.health_backtest.get("auc") is not None:
        return float(
            f.health_backtest["auc"]
        ), f"health score backtest AUC {f.health_backtest['auc']:.3f}"
    if f.churn_model and f.churn_model.get("health_score_auc") is not None:
        auc = float(f.churn_model["health_score_auc"])
        return auc, f"health score AUC {auc:.3f} in the churn model's backtest"
    return None, "no backtest stored (run `helix assess evidence --backtest`)"


def _model_auc(f: Facts) -> tuple[float | None, str]:
    if not f.churn_model:
        return None, "no churn model trained"
    auc = f.churn_model.get("auc")
    if auc is None:
        return None, f"churn model {f.churn_model['version']} trained, not backtested"
    return float(auc), f"churn model {f.churn_model['version']} backtest AUC {auc:.3f}"


def _m_health(f: Facts) -> tuple[bool, str]:
    return f.health_scored > 0, (
        f"{f.health_scored} accounts scored on the latest day"
        if f.health_scored
        else "no health scores computed"
    )


def _m_backtested(f: Facts) -> tuple[bool, str]:
    auc, text = _backtest_auc(f)
    return auc is not None and auc >= AUC_PREDICTIVE, text + f" (predictive from {AUC_PREDICTIVE})"


def _m_model(f: Facts) -> tuple[bool, str]:
    auc, text = _model_auc(f)
    return auc is not None and auc >= AUC_PREDICTIVE, text


def _m_outcomes(f: Facts) -> tuple[bool, str]:
    ok = f.nrr is not None and bool(f.playbooks_measured)
    return ok, (
        f"NRR {_pct(f.nrr)} measured; playbooks judged against holdouts: "
        f"{', '.join(f.playbooks_measured) or 'none'}"
    )


def _m_realtime(f: Facts) -> tuple[bool, str]:
    auc, text = _model_auc(f)
    ok = bool(f.fresh) and auc is not None and auc >= AUC_STRONG
    return ok, f"usage data fresh: {f.fresh}; {text} (needs {AUC_STRONG})"


def _t_crm(f: Facts) -> tuple[bool, str]:
    ok = bool(f.tables.get("accounts")) and bool(f.tables.get("subscriptions"))
    return (
        ok,
        f"accounts {f.tables.get('accounts', 0)}, subscriptions {f.tables.get('subscriptions', 0)}",
    )


def _t_platform(f: Facts) -> tuple[bool, str]:
    return f.health_scored > 0 and bool(f.signals_date), (
        f"Helix computes signals (latest {f.signals_date}) and health scores"
    )


def _sources(f: Facts) -> list[str]:
    return [
        n
        for n in ("events", "tickets", "survey_responses", "contacts", "activities", "payments")
        if f.tables.get(n)
    ]


def _t_integrated(f: Facts) -> tuple[bool, str]:
    have = _sources(f)
    ok = {"events", "tickets", "payments"} <= set(have) and bool(f.fresh)
    return ok, (
        f"sources loaded: {', '.join(have) or 'none'}; usage up to {f.latest_event} "
        f"(fresh: {f.fresh}); needs product usage, support and billing, fresh"
    )


def _t_ai(f: Facts) -> tuple[bool, str]:
    auc, text = _model_auc(f)
    ok = auc is not None and auc >= AUC_PREDICTIVE and f.text_scored > 0
    return ok, f"{text}; {f.text_scored} texts scored for sentiment"


def _p_documented(f: Facts) -> tuple[bool, str]:
    n = len(f.playbooks_enabled)
    return n >= 1, f"{n} playbooks enabled"


def _p_standard(f: Facts) -> tuple[bool, str]:
    covered = f.covered_processes()
    ok = len(covered) == 3 and len(f.playbooks_enabled) >= 3
    return ok, (
        f"core processes with an enabled playbook: {', '.join(covered) or 'none'} "
        "(needs onboarding, adoption and renewal)"
    )


def _p_optimised(f: Facts) -> tuple[bool, str]:
    ok = bool(f.playbooks_measured)
    return ok, (
        f"playbooks with holdouts: {', '.join(f.playbooks_with_holdout) or 'none'}; "
        f"with held-out enrolments to compare: {', '.join(f.playbooks_measured) or 'none'}"
    )


def _p_improving(f: Facts) -> tuple[bool, str]:
    ok = bool(set(f.playbooks_measured) & set(f.playbooks_revised))
    return ok, (
        f"playbooks revised after measurement: "
        f"{', '.join(sorted(set(f.playbooks_measured) & set(f.playbooks_revised))) or 'none'}"
    )


def _o_team(f: Facts) -> tuple[bool, str]:
    ok = f.owner_share is not None and f.owner_share >= 0.9
    return ok, f"active accounts with an owner: {_pct(f.owner_share)} (needs 90%)"


def _o_segmented(f: Facts) -> tuple[bool, str]:
    ent = (f.ratios.get("enterprise") or {}).get("accounts_per_csm")
    mid = (f.ratios.get("mid_market") or {}).get("accounts_per_csm")
    ok = (ent is None or ent <= 30) and (mid is None or mid <= 70) and (ent or mid) is not None
    return ok, (
        f"accounts per CSM: enterprise {ent if ent is not None else '-'}, mid-market "
        f"{mid if mid is not None else '-'} (touch models: at most 30 and 70)"
    )


def _never(reason: str) -> Callable[[Facts], tuple[bool, str]]:
    return lambda f: (False, reason)


LADDERS: dict[str, list[Rung]] = {
    "measurement": [
        Rung(
            2,
            "Activity metrics: retention measured",
            lambda f: (
                f.nrr is not None,
                f"NRR {_pct(f.nrr)}, GRR {_pct(f.grr)} over the trailing year",
            ),
        ),
        Rung(4, "Health scores deployed", _m_health),
        Rung(5, "Health score backtested and predictive", _m_backtested),
        Rung(6, "Predictive churn model", _m_model),
        Rung(8, "Business outcomes: NRR and measured playbook impact", _m_outcomes),
        Rung(9, "Real-time intelligence: fresh data, strong prediction", _m_realtime),
    ],
    "technology": [
        Rung(2, "Customer and billing data in one place", _t_crm),
        Rung(5, "A CS platform computing signals and health", _t_platform),
        Rung(7, "Integrated ecosystem: usage, support and billing, fresh", _t_integrated),
        Rung(9, "AI-powered: a predictive model and text sentiment", _t_ai),
    ],
    "processes": [
        Rung(3, "Documented: playbooks enabled", _p_documented),
        Rung(5, "Standardised: onboarding, adoption and renewal playbooks", _p_standard),
        Rung(7, "Optimised: playbooks measured against holdouts", _p_optimised),
        Rung(9, "Continuously improving: playbooks revised after measurement", _p_improving),
    ],
    "organisation": [
        Rung(3, "Defined team: accounts have owners", _o_team),
        Rung(5, "Segmented coverage within the touch-model ratios", _o_segmented),
        Rung(7, "CCO/CRO reporting", _never("reporting lines are not in Helix's data")),
    ],
}
"""The ladder of each dimension Helix can see, lowest rung first."""

NOT_VISIBLE = {
    "strategy": "Board visibility, executive sponsorship and budget are not in Helix's data.",
    "talent": "Skills, hiring and accountability of the CSMs are not in Helix's data.",
}


def propose(facts: Facts) -> dict[str, Any]:
    """The proposed score of each dimension, with every rung's check and finding."""
    out: dict[str, Any] = {}
    for item in MATURITY.items:
        ladder = LADDERS.get(item.key)
        if ladder is None:
            out[item.key] = {
                "name": item.name,
                "proposed": None,
                "level": None,
                "why": NOT_VISIBLE[item.key],
                "rungs": [],
            }
            continue
        proposed = 1
        reached = True
        rungs = []
        for rung in ladder:
            ok, found = rung.check(facts)
            rungs.append({"score": rung.score, "label": rung.label, "passed": ok, "found": found})
            if reached and ok:
                proposed = rung.score
            else:
                reached = False
        top = next((r for r in reversed(rungs) if r["score"] == proposed), None)
        why = (f"reached '{top['label']}'" if top else "no rung reached") + (
            ""
            if all(r["passed"] for r in rungs)
            else f"; next: '{next(r['label'] for r in rungs if not r['passed'])}'"
        )
        out[item.key] = {
            "name": item.name,
            "proposed": proposed,
            "level": level_of(proposed),
            "why": why,
            "rungs": rungs,
        }
    return {
        "as_of": facts.as_of.isoformat(),
        "dimensions": out,
        "facts": facts.to_dict(),
        "rule": "the highest rung with every rung below it passed (1 when none)",
    }
