"""What Helix knows about the company's CS operation: the facts behind evidence-based
maturity proposals (:mod:`helix.exec.evidence`) and the roadmap's phase gates
(:mod:`helix.exec.roadmap`), gathered once from the warehouse, the app store and the
model registry.

The health backtest is the one expensive fact: :func:`record_health_backtest` runs it
and stores its figures in the setting ``assessment.health_backtest``; the facts use the
stored figures while they belong to the active health model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

if TYPE_CHECKING:
    from helix.platform import Platform

__all__ = ["Facts", "gather_facts", "record_health_backtest", "BACKTEST_SETTING"]

BACKTEST_SETTING = "assessment.health_backtest"
SOURCE_TABLES = (
    "accounts",
    "subscriptions",
    "events",
    "contacts",
    "activities",
    "tickets",
    "survey_responses",
    "payments",
    "churn_reasons",
)
CORE_PLAYBOOKS = {
    "onboarding": ("welcome", "first-value", "onboarding-stall"),
    "adoption": (
        "usage-plateau",
        "single-threaded",
        "health-yellow",
        "health-red",
        "champion-left",
        "tech-touch-monthly",
    ),
    "renewal": ("renewal-90", "renewal-60", "renewal-30"),
}
"""Which shipped playbooks cover the seed's three core processes."""


@dataclass
class Facts:
    """Facts about the company as of a date (see each field)."""

    as_of: date
    tables: dict[str, int] = field(default_factory=dict)  # source table -> rows
    latest_event: date | None = None  # newest usage event
    signals_date: date | None = None  # newest account_signals score date
    health_scored: int = 0  # accounts scored on the newest health date
    health_model: str | None = None
    health_backtest: dict[str, Any] | None = None  # stored, for the active model
    churn_model: dict[str, Any] | None = None  # active churn model and its backtest
    expansion_model: bool = False
    playbooks_enabled: list[str] = field(default_factory=list)
    playbooks_with_holdout: list[str] = field(default_factory=list)
    playbooks_measured: list[str] = field(default_factory=list)  # holdout enrolments exist
    playbooks_revised: list[str] = field(default_factory=list)  # version > 1 or custom
    tasks_done: int = 0
    active_accounts: int = 0
    owner_share: float | None = None  # active accounts with an owner
    nrr: float | None = None
    grr: float | None = None
    expansion_share: float | None = None
    cost_to_serve: float | None = None
    ratios: dict[str, Any] = field(default_factory=dict)  # by tier
    text_scored: int = 0
    expansion_leads: int = 0
    closed_loop: float | None = None  # compliance
    nps: float | None = None
    assessments: int = 0
    last_assessment: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready facts."""
        out = asdict(self)
        for k, v in out.items():
            if isinstance(v, date | datetime):
                out[k] = v.isoformat()
        return out

    def covered_processes(self) -> list[str]:
        """Core processes (onboarding, adoption, renewal) with an enabled playbook."""
        on = set(self.playbooks_enabled)
        return [p for p, names in CORE_PLAYBOOKS.items() if on & set(names)]

    @property
    def fresh(self) -> bool | None:
        """Whether usage data reaches within 7 days of the as-of date (None: no events)."""
        if self.latest_event is None:
            return None
        return (self.as_of - self.latest_event).days <= 7


def _day(value: Any) -> date | None:
    if value is None:
        return None
    return value.date() if isinstance(value, datetime) else value


def record_health_backtest(platform: Platform, *, actor: str) -> dict[str, Any]:
    """Backtest the active health model now and store its figures (BACKTEST_SETTING)."""
    from helix.health.service import run_backtest
    from helix.store.settings import set_setting

    b = run_backtest(platform)
    doc = b.to_dict()
    stored = {
        k: doc.get(k)
        for k in (
            "auc",
            "baseline_auc",
            "top_decile_lift",
            "red_green_ratio",
            "n_observations",
            "horizon_days",
            "model_version",
        )
    }
    stored["computed_at"] = datetime.now().isoformat(timespec="seconds")
    with platform.store.session() as session:
        set_setting(session, BACKTEST_SETTING, stored, actor)
    return stored


def gather_facts(platform: Platform, as_of: date) -> Facts:
    """Every fact Helix can establish as of ``as_of`` (missing data leaves a field empty)."""
    from helix.health.active import active_model
    from helix.metrics.unit_economics import SETTING_KEYS, EconomicsInputs, unit_economics
    from helix.playbooks.catalog import list_records
    from helix.predict.registry import active_models
    from helix.store.models import AssessmentRecord, Enrolment, Task, TaskStatus
    from helix.store.settings import get_setting

    wh = platform.warehouse
    f = Facts(as_of=as_of)
    for name in SOURCE_TABLES:
        if wh.has_table(name):
            f.tables[name] = wh.count(name)
    if f.tables.get("events"):
        e = wh.table("events")
        f.latest_event = _day(
            e.filter(e.event_time < datetime.combine(as_of, datetime.max.time()))
            .event_time.max()
            .to_pyarrow()
            .as_py()
        )
    if wh.has_table("account_signals"):
        s = wh.table("account_signals")
        f.signals_date = _day(s.filter(s.score_date <= as_of).score_date.max().to_pyarrow().as_py())
    if wh.has_table("health_scores"):
        h = wh.table("health_scores")
        last = h.filter(h.score_date <= as_of).score_date.max().to_pyarrow().as_py()
        if last is not None:
            f.health_scored = int(h.filter(h.score_date == last).count().to_pyarrow().as_py())
    model = active_model(platform.store)
    f.health_model = model.version_id
    if wh.has_table("text_sentiment"):
        f.text_scored = wh.count("text_sentiment")
    if wh.has_table("expansion_leads"):
        f.expansion_leads = wh.count("expansion_leads")
    for info in active_models(platform.settings.home):
        if info.target == "churn":
            f.churn_model = {
                "version": info.version,
                "horizon_days": info.horizon_days,
                **{k: info.backtest.get(k) for k in ("auc", "health_score_auc", "baseline_auc")},
            }
        if info.target == "expansion":
            f.expansion_model = True
    with platform.store.session() as session:
        stored = get_setting(session, BACKTEST_SETTING)
        if stored and stored.get("model_version") == model.version_id:
            f.health_backtest = stored
        for rec in list_records(session):
            if rec.enabled:
                f.playbooks_enabled.append(rec.name)
                if float(rec.definition.get("holdout") or 0) > 0:
                    f.playbooks_with_holdout.append(rec.name)
            if rec.version > 1 or rec.source == "custom":
                f.playbooks_revised.append(rec.name)
        held = (
            session.execute(
                select(Enrolment.playbook)
                .where(Enrolment.held_out.is_(True))
                .group_by(Enrolment.playbook)
            )
            .scalars()
            .all()
        )
        f.playbooks_measured = sorted(held)
        f.tasks_done = int(
            session.scalar(select(func.count(Task.id)).where(Task.status == TaskStatus.DONE)) or 0
        )
        rows = session.scalars(
            select(AssessmentRecord.taken_at)
            .where(AssessmentRecord.kind == "maturity")
            .order_by(AssessmentRecord.taken_at)
        ).all()
        f.assessments = len(rows)
        f.last_assessment = rows[-1].isoformat() if rows else None
        economics = {key: get_setting(session, key) for key in SETTING_KEYS.values()}
        if f.tables.get("survey_responses"):
            from helix.voice.closed_loop import closed_loop

            loop = closed_loop(wh, session, as_of)
            f.closed_loop = loop["compliance"]
    if f.tables.get("survey_responses"):
        from helix.voice.nps import voice_scores

        f.nps = voice_scores(wh, "nps", end=as_of)["overall"]["nps"]
    if f.tables.get("subscriptions"):
        econ = unit_economics(wh, as_of, EconomicsInputs.from_settings(economics))
        f.active_accounts = econ.accounts
        w = econ.retention
        f.nrr, f.grr = w.nrr, w.grr
        growth = w.expansion_mrr + w.new_mrr
        f.expansion_share = float(w.expansion_mrr / growth) if growth else None
        f.cost_to_serve = econ.cost_to_serve
        f.ratios = econ.csm_ratios.get("by_tier", {})
        if wh.has_table("account_summary"):
            a = wh.table("account_summary")
            live = a.filter(a.active == 1)
            n = int(live.count().to_pyarrow().as_py())
            owned = int(
                live.filter(live.owner_email.notnull() & (live.owner_email != ""))
                .count()
                .to_pyarrow()
                .as_py()
            )
            f.owner_share = owned / n if n else None
    return f
