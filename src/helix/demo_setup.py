"""`helix demo`: a whole Helix, with a realistic company in it, in one command.

Generates the demo company into ``<home>/demo-company``, imports it, runs the
pipeline, and creates demo users (an admin, a CS leader, every CSM of the
company, and a read-only viewer) who log in with the demo password.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from helix.platform import Platform
from helix.store import Role, create_user, get_user_by_email

DEMO_PASSWORD = "helix-demo"  # printed on screen; a demo data directory only
DEMO_ADMIN = "admin@helix-demo.io"
DEMO_LEADER = "vp.cs@helix-demo.io"
DEMO_VIEWER = "board@helix-demo.io"
REPLAY_DAYS = 365
"""How much playbook history `helix demo` replays."""
REPLAY_WARMUP_DAYS = 30
"""The replay starts this long after the history does (the signals need a month behind them)."""


@dataclass
class DemoSetup:
    company: dict[str, Any]
    import_report: dict[str, Any]
    pipeline: dict[str, Any]
    users: list[dict[str, str]] = field(default_factory=list)
    portfolio: dict[str, Any] = field(default_factory=dict)
    models: list[dict[str, Any]] = field(default_factory=list)
    playbooks: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "company": self.company,
            "import": {
                name: {k: t[k] for k in ("read", "loaded", "rejected", "duplicates")}
                for name, t in self.import_report["tables"].items()
            },
            "pipeline": self.pipeline,
            "portfolio": self.portfolio,
            "models": self.models,
            "playbooks": {k: self.playbooks.get(k) for k in ("as_of", "enrolled", "held_out",
                                                             "steps", "history")},
            "users": self.users,
            "password": DEMO_PASSWORD,
        }


def ensure_demo_users(platform: Platform, csms: list[dict[str, str]]) -> list[dict[str, str]]:
    """Create the demo users that do not exist yet; return all of them."""
    wanted = [
        (DEMO_ADMIN, "Demo Admin", Role.ADMIN),
        (DEMO_LEADER, "Vera Patel (VP Customer Success)", Role.LEADER),
        (DEMO_VIEWER, "Board Observer", Role.VIEWER),
        *[(c["email"], c["name"], Role.CSM) for c in csms],
    ]
    users = []
    with platform.store.session() as session:
        for email, name, role in wanted:
            if get_user_by_email(session, email) is None:
                create_user(session, email=email, name=name, role=role, password=DEMO_PASSWORD, actor="demo")
            users.append({"email": email, "name": name, "role": str(role)})
    return users


def portfolio_summary(platform: Platform) -> dict[str, Any]:
    """Active accounts and ARR by tier, from the account summary."""
    t = platform.warehouse.table("account_summary")
    live = t.filter(t.active == 1)
    rows = (
        live.group_by("tier")
        .aggregate(accounts=live.count(), arr=live.arr.sum())
        .order_by("tier")
        .to_pyarrow()
        .to_pylist()
    )
    by_tier = {r["tier"]: {"accounts": r["accounts"], "arr": round(float(r["arr"]), 2)} for r in rows}
    return {
        "active_accounts": sum(v["accounts"] for v in by_tier.values()),
        "arr": round(sum(v["arr"] for v in by_tier.values()), 2),
        "by_tier": by_tier,
    }


def train_demo_models(platform: Platform) -> list[dict[str, Any]]:
    """Train churn and expansion (90 days) and the time-to-churn model, without backtests
    (`helix predict backtest` shows those). A company too young for a model gets a note."""
    from helix.errors import UserError
    from helix.predict.service import run_survival_train, run_train

    out: list[dict[str, Any]] = []
    for target in ("churn", "expansion"):
        try:
            info = run_train(platform, target, 90, with_backtest=False)
            out.append({"model": f"{target} within 90 days", "version": info["version"]})
        except UserError as exc:
            out.append({"model": f"{target} within 90 days", "note": str(exc)})
    try:
        meta = run_survival_train(platform, with_backtest=False)
        out.append({"model": "time to churn", "version": meta["version"]})
    except UserError as exc:
        out.append({"model": "time to churn", "note": str(exc)})
    return out


def replay_demo_playbooks(
    platform: Platform, window_start: date, end: date,
    progress: Callable[[float, str], None] | None = None,
) -> dict[str, Any]:
    """The engine as of every week of the last year (or of the history, if shorter) up to
    ``end``: the playbook history of a team that has used Helix. Returns the last run's
    report with the replay's totals under ``history``."""
    from helix.playbooks.replay import replay_history

    first = min(end, max(window_start + timedelta(days=REPLAY_WARMUP_DAYS),
                         end - timedelta(days=REPLAY_DAYS)))
    history = replay_history(platform, first, end, actor="demo", progress=progress)
    return history.pop("last_run") | {"history": history}


def setup_demo(
    platform: Platform,
    *,
    accounts: int = 3000,
    months: int = 24,
    seed: int = 7,
    end: date,
    train: bool = True,
    progress: Callable[[str, float], None] | None = None,
) -> DemoSetup:
    """Generate, import and process the demo company; create the demo users; with ``train``,
    train the prediction models too, so that the first screen already has predictions."""
    from helix.ingest.service import run_import
    from helix.pipeline import run_pipeline
    from helix.playbooks.engine import SALT_KEY, ensure_setup
    from helix.store.settings import get_setting, set_setting
    from helix.testing.demo import generate_company

    say = progress or (lambda message, fraction: None)
    out_dir = platform.settings.home / "demo-company"
    with platform.store.session() as session:  # the organisation's playbooks and holdout salt
        if not get_setting(session, SALT_KEY):  # a new demo: the same seed, the same holdouts
            set_setting(session, SALT_KEY, f"helix-demo-{seed}", "demo")
        salt = ensure_setup(session, actor="demo")
    say("generating the demo company", 0.0)
    summary = generate_company(
        out_dir,
        accounts=accounts,
        months=months,
        seed=seed,
        end=end,
        cs_salt=salt,  # its CS team ran the playbooks with this organisation's holdout
        progress=lambda f, m: say(f"generating: {m}", 0.4 * f),
    )
    say("importing", 0.4)
    report = run_import(
        platform, out_dir, actor="demo", progress=lambda m, f: say(f"importing: {m}", 0.4 + 0.3 * f)
    )
    say("running the pipeline", 0.7)
    pipeline = run_pipeline(platform.warehouse, as_of=end, settings=platform.settings)
    models = []
    if train:
        say("training the churn, expansion and time-to-churn models", 0.8)
        models = train_demo_models(platform)
        if any(m.get("version") for m in models):  # score every account with them
            pipeline = run_pipeline(platform.warehouse, as_of=end, settings=platform.settings)
    say("creating demo users", 0.95)
    users = ensure_demo_users(platform, summary.to_dict().get("csms", []))
    say("replaying a year of playbooks: history, holdouts and tasks for every CSM", 0.96)
    window_start = date.fromisoformat(summary.to_dict()["window"]["start"])
    playbooks = replay_demo_playbooks(platform, window_start, end,
                                      progress=lambda f, m: say(m, 0.96 + 0.04 * f))
    say("done", 1.0)
    return DemoSetup(
        company=summary.to_dict(),
        import_report=report.to_dict(),
        pipeline=pipeline.to_dict(),
        users=users,
        portfolio=portfolio_summary(platform),
        models=models,
        playbooks=playbooks,
    )
