"""Import throughput: events from Parquet and CSV, Helix vs a plain pandas + SQLAlchemy load.

Each case runs in its own process so that its peak memory is its own.
Run directly: ``python bench/bench_import.py --events 1000000 --format parquet``.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import synth  # noqa: E402

ACCOUNTS = 10_000


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def prepare(work: Path, events: int, fmt: str) -> Path:
    """Write accounts/subscriptions and an events file of ``events`` rows; return the events dir."""
    (work / "base").mkdir(parents=True, exist_ok=True)
    synth.write_accounts(work / "base", ACCOUNTS, fmt="parquet")
    ev_dir = work / f"events-{fmt}"
    ev_dir.mkdir(exist_ok=True)
    synth.write_events(ev_dir / f"events.{fmt}", events, ACCOUNTS, fmt)
    return ev_dir


def run_helix(work: Path, ev_dir: Path) -> dict[str, float]:
    """Import with Helix into a fresh DuckDB warehouse (validation, dedupe, atomic merge)."""
    from helix.ingest import import_files
    from helix.warehouse import open_warehouse

    for stale in work.glob("helix.duckdb*"):  # a reused --work dir must start empty
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    wh = open_warehouse(f"duckdb://{work / 'helix.duckdb'}")
    import_files(wh, work / "base", imports_dir=work / "reports")
    t0 = time.perf_counter()
    report = import_files(wh, ev_dir, imports_dir=work / "reports")
    seconds = time.perf_counter() - t0
    rows = report.tables["events"].read
    t1 = time.perf_counter()
    again = import_files(wh, ev_dir, imports_dir=work / "reports")
    reimport = time.perf_counter() - t1
    assert again.tables["events"].loaded == 0
    wh.close()
    return {
        "rows": rows,
        "seconds": round(seconds, 3),
        "rows_per_s": round(rows / seconds),
        "reimport_seconds": round(reimport, 3),
        "peak_rss_mb": round(_peak_mb(), 1),
    }


def run_baseline(work: Path, ev_dir: Path, fmt: str) -> dict[str, float]:
    """What a team writes first: pandas reads the file, SQLAlchemy inserts into SQLite."""
    import pandas as pd
    import sqlalchemy as sa

    (work / "baseline.db").unlink(missing_ok=True)
    engine = sa.create_engine(f"sqlite:///{work / 'baseline.db'}")
    t0 = time.perf_counter()
    path = ev_dir / f"events.{fmt}"
    df = pd.read_parquet(path) if fmt == "parquet" else pd.read_csv(path)
    df = df.drop_duplicates(["account_id", "event_time", "event_type", "user_id"])
    df.to_sql("events", engine, if_exists="append", index=False, chunksize=50_000)
    seconds = time.perf_counter() - t0
    return {
        "rows": len(df),
        "seconds": round(seconds, 3),
        "rows_per_s": round(len(df) / seconds),
        "peak_rss_mb": round(_peak_mb(), 1),
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--events", type=int, required=True)
    p.add_argument("--format", choices=["parquet", "csv"], required=True)
    p.add_argument("--engine", choices=["helix", "baseline"], default="helix")
    p.add_argument("--work", type=Path, default=None)
    args = p.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="helix-bench-"))
    try:
        ev_dir = work / f"events-{args.format}"
        if not ev_dir.exists():
            prepare(work, args.events, args.format)
        if args.engine == "helix":
            result = run_helix(work, ev_dir)
        else:
            result = run_baseline(work, ev_dir, args.format)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({"events": args.events, "format": args.format, "engine": args.engine, **result}))


if __name__ == "__main__":
    main()
