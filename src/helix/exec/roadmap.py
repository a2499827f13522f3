"""The transformation roadmap: four phases with measurable gates, and quick wins chosen
from the data (seed 003, chapter 9; seed 000's 12-month plan).

Phases: **foundation** (months 1-6), **scaling** (7-12), **advanced** (13-24),
**innovation** (25+). Each phase has initiatives (what to do) and gates (how to know it
is done). Most gates are Helix checks computed live from the facts
(:mod:`helix.exec.facts`): "health score deployed and backtested: done". The few Helix
cannot see (a steering committee, CS metrics in the board deck) are marked by a person
(``roadmap_marks``).

The current phase is the first whose gates are not all done: the seed's rule is not to
advance before the previous phase's criteria are met. The latest maturity assessment
says where its average points (below 5 foundation, 5-7 scaling, above 7 advanced); when
that is ahead of the gates, the roadmap says so. Progress over time is the series of
stored checkpoints (:func:`helix.exec.records.save_checkpoint`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from helix.exec.evidence import AUC_PREDICTIVE, AUC_STRONG, _backtest_auc, _model_auc
from helix.exec.facts import Facts

__all__ = ["Gate", "Phase", "PHASES", "manual_gate_keys", "evaluate_gates", "quick_wins", "roadmap"]

Check = Callable[[Facts, Mapping[str, Any]], tuple[str, str]]


@dataclass(frozen=True)
class Gate:
    """One phase-gate criterion: measured by Helix (``check``) or marked by a person."""

    key: str
    label: str
    check: Check | None = None  # None: a manual gate

    @property
    def kind(self) -> str:
        """``measured`` or ``manual``."""
        return "manual" if self.check is None else "measured"


@dataclass(frozen=True)
class Phase:
    """One phase: its months, objective, initiatives and gates."""

    key: str
    title: str
    months: str
    objective: str
    initiatives: tuple[str, ...]
    gates: tuple[Gate, ...]


def _s(ok: bool | None) -> str:
    return "unknown" if ok is None else ("done" if ok else "not_done")


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x * 100:.1f}%"


def _baseline(ctx: Mapping[str, Any]) -> dict[str, Any] | None:
    return ctx.get("baseline_facts")


def _nrr_improved(f: Facts, ctx: Mapping[str, Any]) -> tuple[str, str]:
    base = _baseline(ctx)
    if not base or base.get("nrr") is None or f.nrr is None:
        return "unknown", "needs NRR now and in the first stored maturity assessment's evidence"
    delta = f.nrr - float(base["nrr"])
    return _s(delta >= 0.05), (
        f"NRR {_pct(f.nrr)} now vs {_pct(base['nrr'])} at the first "
        f"assessment ({delta * 100:+.1f} points; needs +5)"
    )


def _reassessed(f: Facts, ctx: Mapping[str, Any]) -> tuple[str, str]:
    hist = ctx.get("maturity_history") or []
    if len(hist) < 2:
        return "not_done", f"{len(hist)} maturity assessment(s) stored; needs a re-assessment"
    first, last = hist[0], hist[-1]
    return _s(last["average"] > first["average"]), (
        f"average {first['average']} -> {last['average']} over {len(hist)} assessments"
    )


def _renewals(f: Facts, ctx: Mapping[str, Any]) -> tuple[str, str]:
    want = ("renewal-90", "renewal-60", "renewal-30")
    on = [p for p in want if p in f.playbooks_enabled]
    return _s(len(on) == 3), f"enabled: {', '.join(on) or 'none'} of {', '.join(want)}"


def _health_backtested(f: Facts, ctx: Mapping[str, Any]) -> tuple[str, str]:
    auc, found = _backtest_auc(f)
    return _s(None if auc is None else auc >= AUC_PREDICTIVE), found


def _cost_to_serve(f: Facts, ctx: Mapping[str, Any]) -> tuple[str, str]:
    if f.cost_to_serve is None:
        return "unknown", "set economics.csm_cost and economics.csm_headcount"
    return _s(f.cost_to_serve < 0.07), f"cost-to-serve {_pct(f.cost_to_serve)}"


def _improved(f: Facts, ctx: Mapping[str, Any]) -> tuple[str, str]:
    both = sorted(set(f.playbooks_measured) & set(f.playbooks_revised))
    return _s(bool(both)), "revised after measurement: " + (", ".join(both) or "none")


PHASES: tuple[Phase, ...] = (
    Phase("foundation", "Foundation and quick wins", "months 1-6",
          "Governance, a measurement baseline, the basics deployed, value proven by quick wins.",
          ("Executive steering committee and a transformation lead",
           "Segment the customers and give every account an owner",
           "Deploy a health score across the portfolio",
           "Core playbooks: onboarding, adoption, renewal",
           "3-5 quick wins inside 90 days"),
          (Gate("steering_committee", "Executive steering committee meets monthly"),
           Gate("board_metrics", "NRR, GRR and expansion are in the board deck"),
           Gate("baseline", "Measurement baseline: NRR and GRR measured over the trailing year",
                lambda f, c: (_s(f.nrr is not None), f"NRR {_pct(f.nrr)}, GRR {_pct(f.grr)}")),
           Gate("owners", "Every active account has an owner (90% or more)",
                lambda f, c: (_s(None if f.owner_share is None else f.owner_share >= 0.9),
                              f"{_pct(f.owner_share)} of active accounts have an owner")),
           Gate("health_deployed", "Health score deployed",
                lambda f, c: (_s(f.health_scored > 0),
                              f"{f.health_scored} accounts scored on the latest day")),
           Gate("core_playbooks", "Onboarding, adoption and renewal playbooks enabled",
                lambda f, c: (_s(len(f.covered_processes()) == 3),
                              f"covered: {', '.join(f.covered_processes()) or 'none'}")),
           Gate("renewal_reminders", "Renewal reminders at 90, 60 and 30 days live", _renewals))),
    Phase("scaling", "Scaling and optimisation", "months 7-12",
          "Deploy broadly, make the score predictive, automate, show a measurable NRR gain.",
          ("Advanced health scoring with predictive signals, proven by a backtest",
           "Connect product usage, support and billing with fresh data",
           "Close the loop on every detractor within the SLA",
           "Digital engagement for mid-market and SMB"),
          (Gate("health_backtested",
                f"Health score backtested and predictive (AUC >= {AUC_PREDICTIVE})",
                _health_backtested),
           Gate("data_integrated", "Usage, support and billing data loaded and fresh (7 days)",
                lambda f, c: (_s(bool({"events", "tickets", "payments"} <= set(
                    k for k, v in f.tables.items() if v)) and bool(f.fresh)),
                    f"usage up to {f.latest_event}; tables: "
                    f"{', '.join(k for k, v in f.tables.items() if v)}")),
           Gate("closed_loop", "Detractor follow-up within the SLA for 90% or more",
                lambda f, c: (_s(None if f.closed_loop is None else f.closed_loop >= 0.9),
                              f"closed-loop compliance {_pct(f.closed_loop)}")),
           Gate("nrr_improved", "NRR up 5 points or more since the first assessment",
                _nrr_improved))),
    Phase("advanced", "Advanced capabilities", "months 13-24",
          "Prediction and AI assistance, strategic revenue programmes, measured playbooks.",
          ("ML churn prediction 3-6 months ahead",
           "Sentiment analysis of tickets, comments and interactions",
           "Expansion programme with CS-qualified leads",
           "Playbooks judged against holdouts"),
          (Gate("churn_model", f"Churn model backtested with AUC >= {AUC_STRONG}",
                lambda f, c: (lambda a: (_s(None if a[0] is None else a[0] >= AUC_STRONG),
                                         a[1]))(_model_auc(f))),
           Gate("sentiment", "Text sentiment scored",
                lambda f, c: (_s(f.text_scored > 0), f"{f.text_scored} texts scored")),
           Gate("expansion_share", "25% or more of growth from expansion",
                lambda f, c: (_s(None if f.expansion_share is None else f.expansion_share >= 0.25),
                              f"expansion share {_pct(f.expansion_share)}")),
           Gate("playbooks_measured", "At least one playbook measured against a holdout",
                lambda f, c: (_s(bool(f.playbooks_measured)),
                              f"measured: {', '.join(f.playbooks_measured) or 'none'}")))),
    Phase("innovation", "Continuous innovation", "months 25+",
          "Sustain the lead: experiment, re-assess yearly, keep improving.",
          ("Yearly maturity re-assessment", "Experimentation framework",
           "Playbooks refined from their measured results", "Top-quartile retention and cost"),
          (Gate("top_quartile_retention", "Top-quartile NRR (> 115%) and GRR (> 95%)",
                lambda f, c: (_s(None if f.nrr is None or f.grr is None else
                                 f.nrr > 1.15 and f.grr > 0.95),
                              f"NRR {_pct(f.nrr)}, GRR {_pct(f.grr)}")),
           Gate("top_quartile_cost", "Cost-to-serve below 7% of ARR", _cost_to_serve),
           Gate("reassessed", "Maturity re-assessed and the average went up", _reassessed),
           Gate("playbooks_improved", "A measured playbook was revised", _improved))),
)  # fmt: skip


def manual_gate_keys() -> set[str]:
    """The keys of the gates a person marks."""
    return {g.key for p in PHASES for g in p.gates if g.check is None}


def evaluate_gates(
    facts: Facts, marks: Mapping[str, Any], ctx: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Every phase with the status of each gate (done, not_done, unknown) and its progress."""
    phases = []
    for phase in PHASES:
        gates = []
        for gate in phase.gates:
            if gate.check is None:
                mark = marks.get(gate.key)
                status = "done" if mark is not None and mark.done else "not_done"
                found = (
                    (
                        f"marked by {mark.updated_by} on {mark.updated_at:%Y-%m-%d}"
                        + (f": {mark.note}" if mark.note else "")
                    )
                    if mark is not None
                    else "not marked yet (a person records this one)"
                )
            else:
                status, found = gate.check(facts, ctx)
            gates.append(
                {
                    "key": gate.key,
                    "label": gate.label,
                    "kind": gate.kind,
                    "status": status,
                    "found": found,
                }
            )
        done = sum(1 for g in gates if g["status"] == "done")
        phases.append(
            {
                "key": phase.key,
                "title": phase.title,
                "months": phase.months,
                "objective": phase.objective,
                "initiatives": list(phase.initiatives),
                "gates": gates,
                "done": done,
                "total": len(gates),
                "complete": done == len(gates),
            }
        )
    return phases


def quick_wins(facts: Facts, limit: int = 5) -> list[dict[str, str]]:
    """Up to ``limit`` quick wins (seed 003's list, deliverable inside 90 days) that the data
    says are not done yet, most foundational first, each with why and how."""
    wins: list[dict[str, str]] = []

    def add(title: str, why: str, how: str) -> None:
        wins.append({"title": title, "why": why, "how": how})

    if facts.health_scored == 0:
        add(
            "Automated health scoring",
            "no health scores are computed",
            "`helix run` scores every account daily with the default model",
        )
    elif _backtest_auc(facts)[0] is None:
        add(
            "Prove the health score with a backtest",
            "the health score has never been backtested",
            "`helix assess evidence --backtest` (or `helix health backtest`)",
        )
    if facts.owner_share is not None and facts.owner_share < 0.9:
        add(
            "Give every account an owner",
            f"only {_pct(facts.owner_share)} of active accounts have one",
            "set owner_email in accounts.csv or assign in Helix",
        )
    if "welcome" not in facts.playbooks_enabled:
        add(
            "Welcome sequence",
            "the welcome playbook is not enabled",
            "`helix playbooks enable welcome`",
        )
    missing = [
        p for p in ("renewal-90", "renewal-60", "renewal-30") if p not in facts.playbooks_enabled
    ]
    if missing:
        add(
            "Renewal reminders at 90-60-30 days",
            f"not enabled: {', '.join(missing)}",
            "; ".join(f"`helix playbooks enable {p}`" for p in missing),
        )
    if facts.closed_loop is not None and facts.closed_loop < 0.9:
        add(
            "Close the loop with every detractor",
            f"only {_pct(facts.closed_loop)} of detractors got a follow-up within the SLA",
            "enable the nps-detractor playbook; `helix voice closed-loop` lists the misses",
        )
    if facts.cost_to_serve is None:
        add(
            "Measure cost-to-serve",
            "CSM cost and headcount are not set",
            "`helix metrics settings --csm-cost ... --csm-headcount ...`",
        )
    return wins[:limit]


_BAND_PHASE = {"foundation": "foundation", "scale": "scaling", "advanced": "advanced"}


def roadmap(
    facts: Facts,
    marks: Mapping[str, Any],
    *,
    assessment: dict[str, Any] | None = None,
    maturity_history: list[dict[str, Any]] | None = None,
    baseline_facts: dict[str, Any] | None = None,
    checkpoints: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The roadmap document: phases with live gates, the current phase, quick wins, the
    priority from the latest assessment and the progress checkpoints."""
    ctx = {"maturity_history": maturity_history or [], "baseline_facts": baseline_facts}
    phases = evaluate_gates(facts, marks, ctx)
    current = next((p["key"] for p in phases if not p["complete"]), "innovation")
    suggested = None
    note = None
    if assessment is not None and assessment.get("guidance"):
        suggested = _BAND_PHASE[assessment["guidance"]["band"]]
        order = [p.key for p in PHASES]
        if order.index(suggested) > order.index(current):
            note = (
                f"the assessment points to {suggested}, but the {current} gates are not all "
                f"met: finish them before advancing"
            )
        elif order.index(suggested) < order.index(current):
            note = f"the gates are met up to {current}; the assessment still points to {suggested}"
    done = sum(p["done"] for p in phases)
    total = sum(p["total"] for p in phases)
    focus = None
    if assessment is not None:
        focus = {
            "priority": assessment["priority"],
            "names": assessment["priority_names"],
            "why": "the lowest-scoring dimension constrains the rest",
        }
    return {
        "as_of": facts.as_of.isoformat(),
        "current_phase": current,
        "assessment_phase": suggested,
        "note": note,
        "assessment": assessment,
        "focus": focus,
        "quick_wins": quick_wins(facts),
        "phases": phases,
        "progress": {
            "done": done,
            "total": total,
            "share": round(done / total, 6) if total else None,
        },
        "checkpoints": checkpoints or [],
    }
