"""Customer health at scale: the signals backfill, one incremental day, and a pandas baseline.

    python bench/bench_health.py --accounts 10000 [--months 24]

For N accounts it generates a demo company (24 months), imports it into a
DuckDB warehouse and times:

* the first ``helix run`` (signals backfill over the history, then scores);
* one incremental day (``helix run`` as of the next day);
* the usage signals of one scoring date computed by Helix (Ibis on DuckDB) and by
  a plain pandas implementation over the same events (the baseline), checked
  to agree on active users, events and logins in the last 30 days;
* prediction: the 90-day churn training set, fitting each candidate alone (the
  logistic one is the baseline), the whole selection and calibration, and
  scoring every account of one day with probabilities and drivers.

Prints one JSON line; run each size in its own process (peak RSS is the
process's high-water mark).
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

END = date(2025, 6, 1)


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def pandas_usage(events_path: Path, day: date, accounts: list[str]) -> Any:
    """Active users, events and logins in [day - 30, day) per account, with pandas."""
    import pandas as pd

    ev = pd.read_parquet(events_path, columns=["account_id", "event_time", "event_type", "user_id"])
    t = ev["event_time"].dt.tz_localize(None) if ev["event_time"].dt.tz is not None else ev["event_time"]
    lo, hi = pd.Timestamp(day - timedelta(days=30)), pd.Timestamp(day)
    win = ev[(t >= lo) & (t < hi) & ev["account_id"].isin(accounts)]
    out = win.groupby("account_id").agg(
        active_users_30=("user_id", "nunique"),
        events_30=("event_type", "size"),
        logins_30=("event_type", lambda s: int((s == "login").sum())),
    )
    return out.reindex(accounts).fillna(0)


def bench_health(accounts: int, months: int, work: Path) -> dict[str, Any]:
    from helix.ingest import import_files
    from helix.pipeline import run_pipeline
    from helix.signals import SignalConfig
    from helix.signals.compute import active_keys
    from helix.signals.dates import dates_table
    from helix.signals.sources import Sources
    from helix.signals.usage import usage_signals
    from helix.testing.demo import generate_company
    from helix.warehouse import open_warehouse

    result: dict[str, Any] = {"accounts": accounts, "months": months}
    t0 = time.perf_counter()
    summary = generate_company(work / "co", accounts=accounts, months=months, seed=7, end=END)
    result["generate_seconds"] = round(time.perf_counter() - t0, 1)
    result["events"] = summary.tables["events"]
    wh = open_warehouse(f"duckdb://{work / 'wh.duckdb'}")
    try:
        t0 = time.perf_counter()
        import_files(wh, work / "co", imports_dir=work / "reports")
        result["import_seconds"] = round(time.perf_counter() - t0, 1)

        def run(as_of: date) -> dict[str, Any]:
            t = time.perf_counter()
            report = run_pipeline(wh, as_of=as_of).to_dict()
            stages = {s["name"]: round(s["seconds"], 2) for s in report["stages"]}
            return {"seconds": round(time.perf_counter() - t, 2), "stages": stages}

        result["backfill"] = run(END)
        t = wh.table("account_signals")
        result["backfill"]["signal_rows"] = int(t.count().execute())
        result["backfill"]["dates"] = int(t.score_date.nunique().execute())
        result["incremental_day"] = run(END + timedelta(days=1))

        day = END + timedelta(days=1)
        src = Sources(wh)
        cfg = SignalConfig()
        t1 = time.perf_counter()
        keys = active_keys(src, dates_table([day]), cfg)
        helix = usage_signals(src.table("events"), keys, cfg).to_pandas().set_index("account_id")
        helix_s = time.perf_counter() - t1
        ids = sorted(helix.index)
        t1 = time.perf_counter()
        base = pandas_usage(work / "co" / "events.parquet", day, ids)
        pandas_s = time.perf_counter() - t1
        cols = ["active_users_30", "events_30", "logins_30"]
        agree = bool((helix.loc[ids, cols].astype(float).values == base[cols].astype(float).values).all())
        result["usage_signals_one_day"] = {
            "accounts": len(ids),
            "helix_seconds": round(helix_s, 2),
            "pandas_seconds": round(pandas_s, 2),
            "speedup": round(pandas_s / helix_s, 1) if helix_s else None,
            "pandas_agrees": agree,
        }
        result["prediction"] = bench_prediction(wh, day)
    finally:
        wh.close()
    result["peak_rss_mb"] = _peak_mb()
    return result


def bench_prediction(wh: Any, day: date) -> dict[str, Any]:
    """Training-set build, training (each candidate alone: logistic is the baseline),
    and scoring every account of ``day`` with probabilities and drivers."""
    from helix.predict.drivers import top_drivers
    from helix.predict.models import _fit, select_and_fit
    from helix.predict.training import feature_columns, scoring_frame, training_frame

    out: dict[str, Any] = {}
    t = time.perf_counter()
    frame = training_frame(wh, 90)
    out["training_set"] = {"seconds": round(time.perf_counter() - t, 2), "rows": len(frame),
                           "dates": int(frame["score_date"].nunique())}  # fmt: skip
    numeric = feature_columns()
    y = frame["churned"].to_numpy()
    for name in ("lightgbm", "logistic"):
        t = time.perf_counter()
        _fit(name, frame, y, numeric)
        out[f"fit_{name}_seconds"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    fitted = select_and_fit(frame, "churned", numeric, 90)
    out["select_and_fit_seconds"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    rows = scoring_frame(wh, day)
    fitted.predict(rows)
    top_drivers(fitted, rows)
    seconds = time.perf_counter() - t
    out["daily_scoring"] = {"accounts": len(rows), "seconds": round(seconds, 2),
                            "accounts_per_s": round(len(rows) / seconds) if seconds else None}  # fmt: skip
    out["peak_rss_mb"] = _peak_mb()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--accounts", type=int, default=10_000)
    p.add_argument("--months", type=int, default=24)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="helix-bench-health-") as work:
        out = bench_health(args.accounts, args.months, Path(work))
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
