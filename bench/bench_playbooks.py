"""Playbooks at scale: every shipped playbook evaluated over N accounts in one run.

    python bench/bench_playbooks.py --accounts 100000

Builds a synthetic warehouse (numpy, seconds) holding what the triggers read for the
last 15 days: account_summary, accounts, subscriptions (annual and monthly terms),
daily account_signals with persistent flags, health colour changes, contacts (some
new decision-makers), NPS answers, failed payments and expansion leads. Then times,
with a fresh app store holding the library and CSM users:

* ``decide``: every enabled playbook's trigger (one Ibis query each), filter,
  cooldown, holdout, and the enrolments and steps written to the app store;
* ``execute``: every step that is due (tasks, notifications; emails and webhooks are
  skipped: no SMTP server or webhook is configured in the benchmark);
* a second run the same day (nothing new: the incremental cost);
* the baseline: the five daily-flag edge triggers computed with pandas over the same
  rows (sort, shift by account), checked to find the same occurrences.

Prints one JSON line; peak RSS is the process's high-water mark.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

AS_OF = date(2025, 6, 1)
DAYS = 16  # the 14-day first-run window, the day before it, and a spare


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _persistent(rng: np.random.Generator, n: int, days: int, p_on: float, flip: float) -> np.ndarray:
    """Daily 0/1 flags that start on with ``p_on`` and flip with ``flip`` per day."""
    state = rng.random(n) < p_on
    out = np.empty((days, n), dtype=np.float64)
    for d in range(days):
        out[d] = state
        state = np.where(rng.random(n) < flip, ~state, state)
    return out


def synthesise(accounts: int, seed: int = 11) -> dict[str, pa.Table]:
    """The tables the triggers read, for ``accounts`` accounts and the last DAYS days."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"acct-{i:07d}" for i in range(accounts)])
    arr = np.round(np.exp(rng.normal(9.8, 1.2, accounts)), 2)  # median ~$18K: many tech touch
    owners = np.array([f"csm{i:03d}@vendor.test" for i in range(max(1, accounts // 400))])
    owner = owners[rng.integers(0, len(owners), accounts)]
    first_day = AS_OF - timedelta(days=DAYS - 1)
    since = np.array([AS_OF - timedelta(days=int(x)) for x in rng.integers(0, 1500, accounts)])
    annual = rng.random(accounts) < 0.7
    renew = np.array([AS_OF + timedelta(days=int(x)) for x in rng.integers(-5, 360, accounts)])
    renew = np.where(annual, renew, [AS_OF + timedelta(days=int(x)) for x in
                                      rng.integers(1, 30, accounts)])
    term_start = np.array([r - timedelta(days=365 if a else 30) for r, a in zip(renew, annual)])
    summary = pa.table({
        "account_id": ids, "name": [f"Company {i}" for i in range(accounts)],
        "segment": rng.choice(["smb", "mid", "enterprise"], accounts), "owner_email": owner,
        "mrr": pa.array(np.round(arr / 12, 2)), "arr": pa.array(arr),
        "active": np.ones(accounts, dtype=np.int64), "customer_since": since,
        "next_renewal": renew, "as_of": [AS_OF] * accounts,
    })
    subs = pa.table({
        "subscription_id": [f"sub-{i}" for i in range(accounts)], "account_id": ids,
        "start_date": term_start, "contract_end_date": renew,
        "mrr": pa.array(np.round(arr / 12, 2)),
    })
    plateau = _persistent(rng, accounts, DAYS, 0.2, 0.02)
    multi = _persistent(rng, accounts, DAYS, 0.8, 0.01)
    stalled = _persistent(rng, accounts, DAYS, 0.03, 0.02)
    reached = np.maximum.accumulate(_persistent(rng, accounts, DAYS, 0.9, 0.005), axis=0)
    days = [first_day + timedelta(days=d) for d in range(DAYS)]
    # about 1% of accounts lose their champion during the window: from the next day on,
    # their rows carry the departure (as the daily signals do)
    left_day = np.where(rng.random(accounts) < 0.01, rng.integers(0, DAYS - 1, accounts), DAYS)
    shown = np.arange(DAYS)[:, None] > left_day[None, :]
    left_on = np.array([days[min(i, DAYS - 1)] for i in left_day], dtype="datetime64[D]")
    to_renewal = np.array([[(r - d).days for r in renew] for d in days], dtype=np.float64)
    # a monthly term rolls over to the next month once it has passed
    to_renewal = np.where((~annual)[None, :] & (to_renewal < 0), to_renewal + 30, to_renewal)
    signals = pa.table({
        "account_id": np.tile(ids, DAYS), "score_date": np.repeat(days, accounts),
        "plateau": plateau.ravel(), "multi_threaded": multi.ravel(),
        "engaged_contacts_90": np.where(multi.ravel() == 1, 3.0, 1.0),
        "onboarding_stalled": stalled.ravel(), "value_reached": reached.ravel(),
        "days_to_renewal": np.where(to_renewal >= 0, to_renewal, np.nan).ravel(),
        "mrr": np.tile(np.round(arr / 12, 2), DAYS), "events_30": np.tile(
            rng.integers(0, 5000, accounts).astype(float), DAYS),
        "usage_trend_30": np.tile(rng.normal(1, 0.2, accounts), DAYS),
        "tenure_days": np.tile([(AS_OF - s).days for s in since], DAYS).astype(float),
        "champion_left_on": pa.array(np.tile(left_on, DAYS), mask=~shown.ravel()),
        "champion_left_name": pa.array(np.tile([f"Champion {i}" for i in range(accounts)],
                                               DAYS), mask=~shown.ravel()),
    })
    n_events = accounts * DAYS // 50
    ev_acc = ids[rng.integers(0, accounts, n_events)]
    ev_day = [days[i] for i in rng.integers(0, DAYS, n_events)]
    to_color = rng.choice(["green", "yellow", "red"], n_events, p=[0.4, 0.45, 0.15])
    health = pa.table({
        "account_id": ev_acc, "event_date": ev_day, "event": [f"turned_{c}" for c in to_color],
        "from_color": ["green"] * n_events, "to_color": to_color,
        "score": rng.uniform(20, 90, n_events), "drivers": ["[]"] * n_events,
    })
    health = _dedupe(health, ["account_id", "event_date"])
    n_contacts = accounts * 3
    c_acc = np.repeat(ids, 3)
    roles = np.tile(["champion", "decision_maker", "user"], accounts)
    starts = [AS_OF - timedelta(days=int(x)) for x in rng.integers(0, 1000, n_contacts)]
    contacts = pa.table({
        "contact_id": [f"c-{i}" for i in range(n_contacts)], "account_id": c_acc,
        "name": [f"Person {i}" for i in range(n_contacts)],
        "email": [f"p{i}@customer.test" for i in range(n_contacts)], "role": roles,
        "started_at": starts,
    })
    n_nps = accounts * DAYS // 300
    nps = pa.table({
        "response_id": [f"r-{i}" for i in range(n_nps)],
        "account_id": ids[rng.integers(0, accounts, n_nps)], "survey": ["nps"] * n_nps,
        "responded_at": (np.array(days, dtype="datetime64[D]")[rng.integers(0, DAYS, n_nps)]
                         + np.timedelta64(9, "h")).astype("datetime64[us]"),
        "score": rng.integers(0, 11, n_nps),
    })
    n_pay = accounts // 60
    payments = pa.table({
        "account_id": ids[rng.integers(0, accounts, n_pay)],
        "due_date": [days[i] for i in rng.integers(0, DAYS, n_pay)],
        "amount": pa.array(np.round(rng.uniform(50, 5000, n_pay), 2)),
        "status": ["failed"] * n_pay,
    })
    n_leads = accounts // 40
    lead_first = [days[i] for i in rng.integers(0, DAYS, n_leads)]
    leads = pa.table({
        "account_id": ids[rng.integers(0, accounts, n_leads)], "detected_on": lead_first,
        "first_detected_on": lead_first,
        "signal": rng.choice(["seats_near_limit", "usage_near_limit"], n_leads),
        "evidence": ["45 of 50 licensed seats active in the last 30 days"] * n_leads,
    })
    leads = _dedupe(leads, ["account_id", "detected_on", "signal"])
    return {"account_summary": summary, "accounts": summary.select(
        ["account_id", "name", "segment", "owner_email"]), "subscriptions": subs,
        "account_signals": signals, "health_events": health, "contacts": contacts,
        "survey_responses": nps, "payments": payments, "expansion_leads": leads}


def _dedupe(t: pa.Table, keys: list[str]) -> pa.Table:
    return pa.Table.from_pandas(t.to_pandas().drop_duplicates(keys), preserve_index=False)


def pandas_edges(signals: pa.Table, start: date, end: date) -> dict[str, int]:
    """The baseline: the daily-flag edge triggers with pandas (sort, shift per account)."""
    import pandas as pd

    df = signals.to_pandas()
    df = df[(df.score_date >= start - timedelta(days=1)) & (df.score_date <= end)]
    df = df.sort_values(["account_id", "score_date"])
    prev_day = df.groupby("account_id").score_date.shift(1)
    out = {}
    conditions = {
        "usage_plateau": df.plateau == 1,
        "single_threaded": df.multi_threaded == 0,
        "onboarding_stalled": df.onboarding_stalled == 1,
        "first_value_reached": df.value_reached == 1,
    }
    consecutive = prev_day == (df.score_date - pd.Timedelta(days=1)).dt.date if hasattr(
        prev_day, "dt") else prev_day == df.score_date - timedelta(days=1)
    in_window = df.score_date >= start
    for name, held in conditions.items():
        before = held.astype(int).groupby(df.account_id).shift(1, fill_value=0).astype(bool)
        before = before & consecutive
        out[name] = int((held & ~before & in_window).sum())
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--accounts", type=int, default=100_000)
    args = p.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from helix.config import Settings
    from helix.metrics.loading import load_frame
    from helix.platform import Platform
    from helix.playbooks.engine import decide
    from helix.playbooks.steps import execute
    from helix.playbooks.triggers import occurrences
    from helix.store import Role, create_user

    result: dict[str, Any] = {"accounts": args.accounts, "days_of_signals": DAYS}
    t = time.perf_counter()
    data = synthesise(args.accounts)
    result["generate_seconds"] = round(time.perf_counter() - t, 2)
    result["rows"] = {k: v.num_rows for k, v in data.items()}
    with tempfile.TemporaryDirectory(prefix="helix-bench-pb-") as work, \
            Platform(Settings.load(Path(work) / "home")) as platform:
        platform.init()
        for name, table in data.items():
            load_frame(platform.warehouse, name, table)
        owners = sorted(set(data["account_summary"]["owner_email"].to_pylist()))
        with platform.store.session() as s:
            create_user(s, email="lead@vendor.test", name="Lead", role=Role.LEADER,
                        password="bench-password-1", actor="bench")
            for o in owners:
                create_user(s, email=o, name=o, role=Role.CSM, password="bench-password-1",
                            actor="bench")
        t = time.perf_counter()
        decisions = decide(platform, AS_OF, actor="bench")
        result["decide_seconds"] = round(time.perf_counter() - t, 2)
        result["enrolled"] = sum(d.enrolled for d in decisions)
        result["held_out"] = sum(d.held_out for d in decisions)
        result["occurrences"] = {d.playbook: d.occurrences for d in decisions}
        t = time.perf_counter()
        steps = execute(platform, AS_OF, actor="bench")
        result["execute_seconds"] = round(time.perf_counter() - t, 2)
        result["steps"] = steps
        result["run_seconds"] = round(result["decide_seconds"] + result["execute_seconds"], 2)
        result["accounts_per_second"] = round(args.accounts / result["run_seconds"])
        t = time.perf_counter()
        decide(platform, AS_OF, actor="bench")
        execute(platform, AS_OF, actor="bench")
        result["rerun_seconds"] = round(time.perf_counter() - t, 2)
        start = AS_OF - timedelta(days=14)
        t = time.perf_counter()
        helix_counts = {n: occurrences(platform.warehouse, n, start, AS_OF).count().to_pyarrow(
        ).as_py() for n in ("usage_plateau", "single_threaded", "onboarding_stalled",
                            "first_value_reached")}
        result["helix_edge_seconds"] = round(time.perf_counter() - t, 2)
        t = time.perf_counter()
        base = pandas_edges(data["account_signals"], start, AS_OF)
        result["pandas_edge_seconds"] = round(time.perf_counter() - t, 2)
        result["pandas_agrees"] = base == helix_counts
        result["edge_counts"] = helix_counts
    result["peak_rss_mb"] = _peak_mb()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
