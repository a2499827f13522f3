"""Demo company generation throughput: time, events per second and peak memory.

    python bench/bench_demo.py --accounts 10000 [--months 24] [--event-scale 1.0] [--out DIR]

Prints one JSON line. Run each case in its own process: the peak RSS reported is the
process's high-water mark (``resource.getrusage``), so earlier work in the same
process would be counted too.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

END = date(2025, 6, 1)


def bench_generation(accounts: int, months: int, event_scale: float, out_dir: Path) -> dict:
    """Generate a company into ``out_dir`` and report time, throughput and peak RSS."""
    from helix.testing.demo import generate_company

    started = time.perf_counter()
    summary = generate_company(
        out_dir, accounts=accounts, months=months, seed=7, end=END, event_scale=event_scale
    )
    seconds = time.perf_counter() - started
    events = summary.tables["events"]
    size = sum(p.stat().st_size for p in Path(out_dir).iterdir())
    return {
        "accounts": accounts,
        "months": months,
        "event_scale": event_scale,
        "rows": summary.tables,
        "events": events,
        "seconds": round(seconds, 2),
        "events_per_second": round(events / seconds) if seconds else None,
        "accounts_per_second": round(accounts / seconds, 1) if seconds else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "output_mb": round(size / 1e6, 1),
    }


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: one case, one JSON line on stdout."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--event-scale", type=float, default=1.0)
    parser.add_argument(
        "--out", type=Path, default=None, help="keep the company here (default: a temp dir)"
    )
    args = parser.parse_args(argv)
    if args.out is not None:
        result = bench_generation(args.accounts, args.months, args.event_scale, args.out)
    else:
        work = Path(tempfile.mkdtemp(prefix="helix-bench-demo-"))
        try:
            result = bench_generation(
                args.accounts, args.months, args.event_scale, work / "company"
            )
        finally:
            shutil.rmtree(work, ignore_errors=True)
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
