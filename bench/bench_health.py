"""Customer health at scale: the daily backfill, one incremental day, and a pandas baseline.

    python bench/bench_health.py --accounts 10000 [--months 24] [--no-prediction] [--work DIR]
    python bench/bench_health.py --work DIR --next-day [--new-events]

For N accounts it generates a demo company (24 months), imports it into a
DuckDB warehouse and times:

* the first ``helix run``: signals for every day of the history, then the
  scores of every day (the daily backfill);
* one incremental day (``helix run`` as of the next day), with the seconds of
  each stage (signals and health are the health part);
* the usage signals of one scoring date, and of 30 consecutive days, computed
  by Helix (Ibis on DuckDB) and by a plain pandas implementation over the same
  events (the baseline: one filter and group-by per day), checked to agree on
  active users, events and logins in the last 30 days;
* unless ``--no-prediction``: the 90-day churn training set, fitting each
  candidate alone (the logistic one is the baseline), the whole selection and
  calibration, and scoring every account of one day with probabilities and
  drivers.

Prints one JSON line; run each size in its own process (peak RSS is the
process's high-water mark).

``--work DIR`` keeps the company and the warehouse in DIR (otherwise a temporary
directory, deleted at the end). ``--next-day`` then times, in a fresh process, one
more incremental day on that kept warehouse (the day after its last scored date),
the same pipeline call as the full run's incremental day: a change to the daily
path can be measured in a minute instead of after a new 100k backfill (over an hour).
``--new-events`` first adds the events of the day before (a week-old day's copied
forward, as one new part, as a daily import would), so the run also brings the event
summary up to date with a new part.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

END = date(2025, 6, 1)


def _progress(result: dict[str, Any]) -> None:
    """The figures so far on stderr, so a long run that is stopped still reports its phases."""
    sys.stderr.write(json.dumps(result) + "\n")
    sys.stderr.flush()


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def pandas_usage(events_path: Path, days: list[date], accounts: list[str]) -> Any:
    """Active users, events and logins in [day - 30, day) per account and day, with pandas:
    the events read once, then one window filter and group-by per day."""
    import pandas as pd

    import pyarrow.parquet as pq

    # only the rows of the look-back are read (at 100k accounts the whole file does not
    # fit in memory as pandas objects)
    tz = pq.read_schema(events_path).field("event_time").type.tz
    lo = pd.Timestamp(min(days) - timedelta(days=30), tz=tz)
    ev = pd.read_parquet(
        events_path, columns=["account_id", "event_time", "event_type", "user_id"],
        filters=[("event_time", ">=", lo)],
    )
    t = ev["event_time"].dt.tz_localize(None) if ev["event_time"].dt.tz is not None else ev["event_time"]
    keep = (t >= pd.Timestamp(min(days) - timedelta(days=30))) & (t < pd.Timestamp(max(days)))
    ev, t = ev[keep], t[keep]
    out = []
    for day in days:
        lo, hi = pd.Timestamp(day - timedelta(days=30)), pd.Timestamp(day)
        win = ev[(t >= lo) & (t < hi)]
        agg = win.groupby("account_id").agg(
            active_users_30=("user_id", "nunique"),
            events_30=("event_type", "size"),
            logins_30=("event_type", lambda s: int((s == "login").sum())),
        )
        out.append(agg.reindex(accounts).fillna(0).assign(score_date=day))
    return pd.concat(out)


def compare_usage(wh: Any, events_path: Path, days: list[date]) -> dict[str, Any]:
    """Usage signals of ``days`` by Helix and by pandas: seconds, and whether they agree."""
    from helix.signals import SignalConfig
    from helix.signals.compute import active_keys
    from helix.signals.dates import dates_table
    from helix.signals.sources import Sources
    from helix.signals.usage import usage_signals

    src = Sources(wh)
    cfg = SignalConfig()
    t1 = time.perf_counter()
    keys = active_keys(src, dates_table(days), cfg)
    helix = usage_signals(src.table("events"), keys, cfg).to_pandas()
    helix_s = time.perf_counter() - t1
    ids = sorted(set(helix["account_id"]))
    t1 = time.perf_counter()
    base = pandas_usage(events_path, days, ids)
    pandas_s = time.perf_counter() - t1
    cols = ["active_users_30", "events_30", "logins_30"]
    mine = helix.set_index(["account_id", "score_date"])[cols].astype(float)
    theirs = base.reset_index().set_index(["account_id", "score_date"])[cols].astype(float)
    joined = mine.join(theirs, rsuffix="_pd", how="inner")
    agree = len(joined) == len(mine) and all((joined[c] == joined[c + "_pd"]).all() for c in cols)
    return {
        "days": len(days),
        "rows": len(mine),
        "helix_seconds": round(helix_s, 2),
        "pandas_seconds": round(pandas_s, 2),
        "speedup": round(pandas_s / helix_s, 1) if helix_s else None,
        "pandas_agrees": bool(agree),
    }


def bench_health(accounts: int, months: int, work: Path, *, prediction: bool = True) -> dict[str, Any]:
    from helix.ingest import import_files
    from helix.testing.demo import generate_company
    from helix.warehouse import open_warehouse

    result: dict[str, Any] = {"accounts": accounts, "months": months}
    t0 = time.perf_counter()
    summary = generate_company(work / "co", accounts=accounts, months=months, seed=7, end=END)
    result["generate_seconds"] = round(time.perf_counter() - t0, 1)
    result["events"] = summary.tables["events"]
    _progress(result)
    wh = open_warehouse(f"duckdb://{work / 'wh.duckdb'}")
    try:
        t0 = time.perf_counter()
        import_files(wh, work / "co", imports_dir=work / "reports")
        result["import_seconds"] = round(time.perf_counter() - t0, 1)
        _progress(result)

        result["backfill"] = _timed_run(wh, END)
        t = wh.table("account_signals")
        result["backfill"]["signal_rows"] = int(t.count().execute())
        result["backfill"]["dates"] = int(t.score_date.nunique().execute())
        result["backfill"]["score_rows"] = int(wh.table("health_scores").count().execute())
        result["backfill"]["signal_rows_per_s"] = round(
            result["backfill"]["signal_rows"] / result["backfill"]["stages"]["signals"]
        )
        _progress(result)
        day = END + timedelta(days=1)
        result["incremental_day"] = _timed_run(wh, day)
        _progress(result)
        events = work / "co" / "events.parquet"
        result["usage_signals_one_day"] = compare_usage(wh, events, [day])
        result["usage_signals_30_days"] = compare_usage(wh, events, [day - timedelta(days=i) for i in range(30)][::-1])
        if prediction:
            result["prediction"] = bench_prediction(wh, day)
    finally:
        wh.close()
    result["peak_rss_mb"] = _peak_mb()
    return result


def _timed_run(wh: Any, as_of: date) -> dict[str, Any]:
    """``helix run`` as of ``as_of``: seconds in all and per stage, signals + health apart."""
    from helix.pipeline import run_pipeline

    t = time.perf_counter()
    report = run_pipeline(wh, as_of=as_of).to_dict()
    stages = {s["name"]: round(s["seconds"], 2) for s in report["stages"]}
    seconds = time.perf_counter() - t
    return {"seconds": round(seconds, 2), "stages": stages,
            "health_seconds": round(stages.get("signals", 0) + stages.get("health", 0), 2),
            "peak_rss_mb": _peak_mb()}  # fmt: skip


def _add_day_of_events(wh: Any, day: date) -> dict[str, Any]:
    """The events of the day a week before ``day``, copied to ``day`` as one new part (what
    a daily import adds), so the timed run also summarises a new part."""
    from datetime import datetime, time as day_time

    import ibis

    t0 = time.perf_counter()
    ev = wh.table("events")
    lo = datetime.combine(day - timedelta(days=7), day_time.min)
    week_before = ev.filter((ev.event_time >= lo) & (ev.event_time < lo + timedelta(days=1)))
    copy = week_before.mutate(
        event_time=week_before.event_time + ibis.interval(days=7),
        event_id=week_before.event_id.concat("-w"),  # null stays null
    )
    with wh.transaction():
        wh.append("events", copy)
        wh.record_change("events", note="bench: a day of events")
    added = int(ev.filter(ev.event_time >= datetime.combine(day, day_time.min),
                          ev.event_time < datetime.combine(day + timedelta(days=1), day_time.min)).count().execute())
    return {"day": day.isoformat(), "events": added, "seconds": round(time.perf_counter() - t0, 2)}


def bench_next_day(work: Path, *, new_events: bool = False) -> dict[str, Any]:
    """One more incremental day on the warehouse a ``--work`` run kept; with ``new_events``,
    after adding the events of the day before it (untimed)."""
    from helix.health.data import signal_dates
    from helix.warehouse import open_warehouse

    path = work / "wh.duckdb"
    if not path.exists():
        raise SystemExit(f"{path} does not exist: run the whole case with --work {work} first")
    wh = open_warehouse(f"duckdb://{path}")
    try:
        last = signal_dates(wh)[-1]
        day = last + timedelta(days=1)
        out: dict[str, Any] = {"work": str(work), "after": last.isoformat(), "as_of": day.isoformat()}
        if new_events:
            out["added_events"] = _add_day_of_events(wh, day - timedelta(days=1))
        out |= {"events": int(wh.table("events").count().execute()),
                "accounts": int(wh.table("accounts").count().execute()),
                "incremental_day": _timed_run(wh, day)}  # fmt: skip
        return out
    finally:
        wh.close()


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
    p.add_argument("--no-prediction", action="store_true", help="skip the prediction part")
    p.add_argument("--work", type=Path, help="keep the company and the warehouse in this directory")
    p.add_argument("--next-day", action="store_true",
                   help="with --work: time one more incremental day on the kept warehouse")
    p.add_argument("--new-events", action="store_true",
                   help="with --next-day: first add a day of events (a week-old day's, copied) as a new part")
    args = p.parse_args(argv)
    if args.next_day:
        if args.work is None:
            p.error("--next-day needs --work DIR")
        out = bench_next_day(args.work, new_events=args.new_events)
    else:
        if args.work is not None:
            args.work.mkdir(parents=True, exist_ok=True)
        keep = contextlib.nullcontext(args.work) if args.work is not None else None
        with keep or tempfile.TemporaryDirectory(prefix="helix-bench-health-") as work:
            out = bench_health(args.accounts, args.months, Path(work), prediction=not args.no_prediction)
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
