"""Use cases of the executive layer, one function per command, route and page.

Each opens what it needs from the :class:`~helix.platform.Platform` and owns its
transaction; the CLI, the API and the web pages call these and nothing below them.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from helix.exec import records
from helix.exec.evidence import propose
from helix.exec.facts import gather_facts, record_health_backtest
from helix.exec.frameworks import evaluate, framework
from helix.exec.roadmap import roadmap

if TYPE_CHECKING:
    from helix.platform import Platform

__all__ = [
    "data_as_of",
    "questionnaire",
    "maturity_evidence",
    "take_assessment",
    "assessment_history",
    "benchmark_doc",
    "business_case_doc",
    "roadmap_doc",
    "record_checkpoint",
    "mark_gate",
]


def data_as_of(platform: Platform) -> date:
    """The as-of date of the last pipeline run (today when nothing ran yet)."""
    from helix.playbooks.service import latest_as_of

    return latest_as_of(platform)


def questionnaire(kind: str) -> dict[str, Any]:
    """The questions of scorecard ``kind``."""
    return framework(kind).to_dict()


def maturity_evidence(
    platform: Platform,
    as_of: date | None = None,
    *,
    backtest: bool = False,
    actor: str = "cli",
) -> dict[str, Any]:
    """The evidence-based maturity proposal; with ``backtest``, backtest the health score
    first and store the figures (so later proposals and gates use them)."""
    if backtest:
        record_health_backtest(platform, actor=actor)
    return propose(gather_facts(platform, as_of or data_as_of(platform)))


def take_assessment(
    platform: Platform,
    kind: str,
    scores: dict[str, Any],
    *,
    actor: str,
    notes: dict[str, str] | None = None,
    as_of: date | None = None,
) -> dict[str, Any]:
    """Score ``kind``, store it (a maturity assessment with Helix's evidence beside it) and
    return the scorecard with its stored id."""
    card = evaluate(kind, scores, notes)
    evidence = (
        propose(gather_facts(platform, as_of or data_as_of(platform)))
        if kind == "maturity"
        else None
    )
    with platform.store.session() as session:
        row = records.save_scorecard(session, card, actor=actor, evidence=evidence)
        doc = {
            **card.to_dict(),
            "id": row.id,
            "taken_at": row.taken_at.isoformat(),
            "taken_by": row.taken_by,
            "evidence": evidence,
        }
    if evidence is not None:
        for item in doc["items"]:
            item["proposed"] = evidence["dimensions"][item["key"]]["proposed"]
    return doc


def assessment_history(platform: Platform, kind: str) -> dict[str, Any]:
    """Every stored scorecard of ``kind`` with the progress since the first and previous."""
    with platform.store.session() as session:
        return records.history_document(session, kind)


def _inputs(platform: Platform, **overrides: Any) -> Any:
    from helix.metrics.unit_economics import SETTING_KEYS, EconomicsInputs
    from helix.store.settings import get_setting

    with platform.store.session() as session:
        stored = {key: get_setting(session, key) for key in SETTING_KEYS.values()}
    return EconomicsInputs.from_settings(stored).overridden(**overrides)


def benchmark_doc(
    platform: Platform,
    as_of: date | None = None,
    *,
    months: int = 12,
    segment: str | None = None,
    csm_cost: float | None = None,
    csm_headcount: int | None = None,
    ttv_days: float | None = None,
) -> dict[str, Any]:
    """Benchmarks with the gap to the next quartile in dollars (``helix report benchmark``)."""
    from helix.exec.benchmarking import benchmark_report

    inputs = _inputs(platform, csm_cost=csm_cost, csm_headcount=csm_headcount)
    return benchmark_report(
        platform.warehouse,
        as_of or data_as_of(platform),
        inputs,
        months=months,
        segment=segment,
        ttv_days=ttv_days,
    )


def business_case_doc(
    platform: Platform,
    as_of: date | None = None,
    *,
    what_if: dict[str, Any] | None = None,
    months: int = 12,
) -> dict[str, Any]:
    """The business case from the company's data, what-if inputs overriding it.

    GRR and growth are measured over the ``months`` before ``as_of``; a window shorter
    or longer than a year is annualised (``GRR^(12/months)``, growth x ``12/months``).
    """
    from helix.exec.business_case import business_case, inputs_from_data
    from helix.metrics.unit_economics import unit_economics

    day = as_of or data_as_of(platform)
    given = {k: v for k, v in (what_if or {}).items() if v is not None}
    econ_inputs = _inputs(platform)
    econ = unit_economics(platform.warehouse, day, econ_inputs, months=months)
    w = econ.retention
    has = bool(w.start_mrr)
    per_year = Decimal(12) / Decimal(months)  # a shorter window is annualised
    inputs = inputs_from_data(
        arr=econ.arr if econ.accounts else None,
        grr=(w.grr ** (12 / months) if months != 12 else w.grr) if has and w.grr is not None
        else None,
        expansion_mrr=w.expansion_mrr * per_year if has else None,
        new_mrr=w.new_mrr * per_year if has else None,
        csm_cost=econ_inputs.csm_cost,
        csm_headcount=econ_inputs.csm_headcount,
        discount_rate=econ_inputs.discount_rate,
        what_if=given,
    )
    doc = business_case(inputs).to_dict()
    doc["as_of"] = day.isoformat()
    doc["window"] = {"start": econ.window_start.isoformat(), "end": day.isoformat()}
    return doc


def _latest_maturity(
    session: Any,
) -> tuple[dict[str, Any] | None, list[dict[str, Any]], dict[str, Any] | None]:
    rows = records.history(session, "maturity")
    hist = [{"id": r.id, "average": r.average, "taken_at": r.taken_at.isoformat()} for r in rows]
    latest = None
    baseline = None
    if rows:
        latest = {
            **records.scorecard_of(rows[-1]).to_dict(),
            "id": rows[-1].id,
            "taken_at": rows[-1].taken_at.isoformat(),
        }
        baseline = (rows[0].evidence or {}).get("facts")
    return latest, hist, baseline


def roadmap_doc(platform: Platform, as_of: date | None = None) -> dict[str, Any]:
    """The roadmap from the latest maturity assessment and the live gates."""
    facts = gather_facts(platform, as_of or data_as_of(platform))
    with platform.store.session() as session:
        latest, hist, baseline = _latest_maturity(session)
        marks = records.marks(session)
        points = [c.to_dict() for c in records.checkpoints(session)]
        return roadmap(
            facts,
            marks,
            assessment=latest,
            maturity_history=hist,
            baseline_facts=baseline,
            checkpoints=points,
        )


def record_checkpoint(
    platform: Platform, as_of: date | None = None, *, actor: str
) -> dict[str, Any]:
    """Compute the roadmap and store its gate results as a checkpoint; return both."""
    doc = roadmap_doc(platform, as_of)
    with platform.store.session() as session:
        row = records.save_checkpoint(session, doc, actor=actor)
        point = row.to_dict()
    doc["checkpoints"] = [*doc["checkpoints"], point]
    doc["checkpoint"] = point
    return doc


def mark_gate(
    platform: Platform, key: str, done: bool, *, note: str = "", actor: str
) -> dict[str, Any]:
    """Record a manual gate as met (or not)."""
    with platform.store.session() as session:
        return records.set_mark(session, key, done, note=note, actor=actor).to_dict()
