"""Prediction at scale: training set, training and daily scoring (issue target: 100k accounts).

    python bench/bench_predict.py --accounts 100000 [--months 27]

For N accounts it generates a demo company, imports it into a DuckDB
warehouse, stores the daily signals of the first day of each of the last 24
months whose 90 days have passed plus the scoring day (only those dates, not
the whole daily backfill, which bench_health.py measures), then times, each
with the peak RSS of the process so far:

* the 90-day churn training set (24 monthly observation dates, Ibis on DuckDB);
* fitting each candidate alone (logistic: the simple baseline), and the whole
  rolling time-split selection with calibration;
* the survival (time-to-churn) model fit;
* daily scoring of every active account: the churn model's calibrated
  probabilities with their drivers (with the seconds of the features, the model and
  the drivers), and the survival model's timing;
* the model and drivers over as many rows as ``--accounts`` (the active rows repeated):
  the cost of scoring a company whose every account is active.

Prints one JSON line (each size in its own process).
"""

from __future__ import annotations

import argparse
import json
import resource
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

END = date(2025, 6, 1)
OBSERVATIONS = 24


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


@contextmanager
def timed(out: dict[str, Any], name: str, **extra: Any) -> Iterator[dict[str, Any]]:
    """Record the seconds of the block and the peak RSS after it under ``out[name]``."""
    entry: dict[str, Any] = dict(extra)
    t = time.perf_counter()
    yield entry
    entry["seconds"] = round(time.perf_counter() - t, 2)
    entry["peak_rss_mb"] = _peak_mb()
    out[name] = entry


def observation_dates(end: date, n: int, horizon_days: int) -> list[date]:
    """The first days of the ``n`` latest months whose horizon ends before ``end``."""
    from helix.metrics.periods import add_months

    out, d = [], date(end.year, end.month, 1)
    while len(out) < n:
        d = add_months(d, -1)
        if (end - d).days >= horizon_days:
            out.append(d)
    return sorted(out)


# Observation dates lie months apart, so each date's windows reach events no other
# date shares: a smaller batch than the daily backfill's keeps DuckDB within its limit.
SIGNAL_BATCH_ROWS = 500_000


def bench_predict(accounts: int, months: int, work: Path) -> dict[str, Any]:
    from helix.ingest import import_files
    from helix.predict.drivers import top_drivers
    from helix.predict.models import _fit, select_and_fit
    from helix.predict.survival import fit_survival, stint_ends, with_durations
    from helix.predict.training import model_features, scoring_frame, training_frame
    from helix.signals import SignalConfig
    from helix.signals.compute import compute_signals
    from helix.signals.dates import batches
    from helix.signals.sources import Sources
    from helix.testing.demo import generate_company
    from helix.warehouse import open_warehouse
    from helix.warehouse.schema import ACCOUNT_SIGNALS

    result: dict[str, Any] = {"accounts": accounts, "months": months}
    with timed(result, "generate") as e:
        summary = generate_company(work / "co", accounts=accounts, months=months, seed=7, end=END)
        e["events"] = summary.tables["events"]
    wh = open_warehouse(f"duckdb://{work / 'wh.duckdb'}")
    try:
        with timed(result, "import"):
            import_files(wh, work / "co", imports_dir=work / "reports")
        days = [*observation_dates(END, OBSERVATIONS, 90), END]
        with timed(result, "signals", dates=len(days)) as e:
            # in bounded batches of dates, as `helix run` computes them
            with Sources(wh, cache=True) as src:
                for i, part in enumerate(batches(days, accounts, rows=SIGNAL_BATCH_ROWS)):
                    expr = compute_signals(src, part, SignalConfig())
                    (wh.append if i else wh.write_table)(ACCOUNT_SIGNALS.name, expr)
            e["rows"] = wh.count(ACCOUNT_SIGNALS.name)
        with timed(result, "training_set") as e:
            frame = training_frame(wh, 90, last_day=END)
            e["rows"] = len(frame)
            e["dates"] = int(frame["score_date"].nunique())
        numeric = model_features(frame)
        y = frame["churned"].to_numpy()
        for name in ("lightgbm", "logistic"):
            with timed(result, f"fit_{name}"):
                _fit(name, frame, y, numeric)
        with timed(result, "select_and_calibrate") as e:
            fitted = select_and_fit(frame, "churned", numeric, 90)
            e["chosen"] = fitted.name
        with timed(result, "fit_survival") as e:
            surv = with_durations(frame, stint_ends(wh), END)
            model = fit_survival(surv)
            e["events"] = int(surv["event"].sum())
        with timed(result, "daily_scoring") as e:
            t0 = time.perf_counter()
            rows = scoring_frame(wh, END, fitted.event_types)
            t1 = time.perf_counter()
            fitted.predict(rows)
            t2 = time.perf_counter()
            top_drivers(fitted, rows)
            e["stages"] = {"features": round(t1 - t0, 2), "predict": round(t2 - t1, 2),
                           "drivers": round(time.perf_counter() - t2, 2)}
            e["accounts"] = len(rows)
        result["daily_scoring"]["accounts_per_s"] = round(
            len(rows) / result["daily_scoring"]["seconds"]
        )
        # a company whose every one of ``accounts`` accounts is active: the scored rows
        # repeated up to that count, through the model and its drivers (the features
        # stage is the warehouse's, measured above for the active accounts there are)
        many = rows.sample(n=accounts, replace=True, random_state=1).reset_index(drop=True)
        with timed(result, "model_scoring_all_accounts") as e:
            fitted.predict(many)
            top_drivers(fitted, many)
            e["rows"] = len(many)
        with timed(result, "daily_timing") as e:
            model.timing(rows)
            e["accounts"] = len(rows)
    finally:
        wh.close()
    result["peak_rss_mb"] = _peak_mb()
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--accounts", type=int, default=100_000)
    p.add_argument("--months", type=int, default=27)
    args = p.parse_args(argv)
    # a killed run still removes its data (tens of GB of spill files at 100k accounts)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="helix-bench-predict-") as work:
        out = bench_predict(args.accounts, args.months, Path(work))
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
