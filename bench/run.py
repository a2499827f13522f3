"""`make bench`: every benchmark, each case in its own process, one JSON report.

Cases (sizes can be cut with --quick):
* import of events from Parquet and CSV at 1M and 10M rows, Helix vs a plain
  pandas + SQLAlchemy load (the baseline runs at 1M only: at 10M it takes many
  minutes and its memory grows with the file);
* demo company generation throughput (bench_demo.py);
* the retention ledger and series at several account counts (bench_metrics.py);
* the daily health backfill, one incremental day and a pandas baseline, 10k and
  100k accounts (bench_health.py);
* prediction: training set, training and daily scoring at 100k accounts (bench_predict.py);
* every shipped playbook evaluated and executed over 100k accounts, with a pandas
  baseline for the edge triggers (bench_playbooks.py);
* live ingestion: Segment batches into a real server, accepted and flushed, with
  single-event requests and the file importer as baselines (bench_live_ingest.py);
* the portfolio and Customer 360 pages at 100k accounts under 20 users, with one user
  as the baseline (bench_web.py).

``--cases import,metrics,...`` runs only the named groups (all by default).

Figures are time, throughput and peak RSS of the process that ran the case.
"""

from __future__ import annotations

import argparse
import json
import re
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).parent
GROUPS = ("import", "demo", "metrics", "health", "predict", "playbooks", "live", "web")


def _failure(stderr: str, returncode: int) -> list[str]:
    """The exception of a failed case, all its lines (DuckDB's run to several), or the
    end of stderr when there was no Python exception (e.g. killed by the kernel)."""
    lines = stderr.strip().splitlines()
    starts = [i for i, line in enumerate(lines) if re.match(r"^[\w.]+(Error|Exception)\b", line)]
    if starts:
        return lines[starts[-1]:][:20]
    return lines[-5:] or [f"exit code {returncode}"]


def _run(args: list[str], timeout: int = 3600, env: dict[str, str] | None = None) -> dict:
    proc = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=timeout, cwd=HERE.parent,
        env={**os.environ, **(env or {})},
    )
    if proc.returncode != 0:
        return {"error": _failure(proc.stderr, proc.returncode), "args": args}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def import_cases(sizes: list[int]) -> list[dict]:
    results = []
    for fmt in ("parquet", "csv"):
        for n in sizes:
            with tempfile.TemporaryDirectory(prefix="helix-bench-") as work:
                base = ["bench/bench_import.py", "--events", str(n), "--format", fmt, "--work", work]
                print(f"import {fmt} {n:,} events ...", file=sys.stderr, flush=True)
                results.append({"case": "import", **_run(base)})
                if n <= 1_000_000:
                    print(f"baseline {fmt} {n:,} events ...", file=sys.stderr, flush=True)
                    results.append({"case": "import", **_run([*base, "--engine", "baseline"])})
    # memory is bounded by the warehouse's limit, not by the file: the largest file again
    # under a 1 GB DuckDB limit (it spills to disk instead of growing)
    n = max(sizes)
    with tempfile.TemporaryDirectory(prefix="helix-bench-") as work:
        print(f"import parquet {n:,} events under a 1GB memory limit ...", file=sys.stderr, flush=True)
        args = ["bench/bench_import.py", "--events", str(n), "--format", "parquet", "--work", work]
        limited = _run(args, env={"HELIX_DUCKDB_MEMORY_LIMIT": "1GB"})
        results.append({"case": "import", "memory_limit": "1GB", **limited})
    return results


def demo_cases(sizes: list[int]) -> list[dict]:
    if not (HERE / "bench_demo.py").exists():
        return []
    out = []
    for n in sizes:
        print(f"demo generation {n:,} accounts ...", file=sys.stderr, flush=True)
        out.append({"case": "demo_generate", **_run(["bench/bench_demo.py", "--accounts", str(n)])})
    return out


def health_cases(sizes: list[int]) -> list[dict]:
    out = []
    for n in sizes:
        print(f"health backfill and incremental day, {n:,} accounts ...", file=sys.stderr, flush=True)
        # prediction at 100k accounts is bench_predict.py's case
        extra = ["--no-prediction"] if n > 10_000 else []
        out.append({"case": "health", **_run(["bench/bench_health.py", "--accounts", str(n), *extra], timeout=3 * 3600)})
    return out


def predict_cases(sizes: list[int]) -> list[dict]:
    out = []
    for n in sizes:
        print(f"prediction: training set, training, daily scoring, {n:,} accounts ...", file=sys.stderr, flush=True)
        out.append({"case": "predict", **_run(["bench/bench_predict.py", "--accounts", str(n)])})
    return out


def playbook_cases(sizes: list[int]) -> list[dict]:
    out = []
    for n in sizes:
        print(f"playbooks: every shipped playbook over {n:,} accounts ...", file=sys.stderr, flush=True)
        out.append({"case": "playbooks", **_run(["bench/bench_playbooks.py", "--accounts", str(n)])})
    return out


def live_cases(sizes: list[int]) -> list[dict]:
    out = []
    for n in sizes:
        print(f"live ingestion: {n:,} Segment events in batches of 100 ...", file=sys.stderr, flush=True)
        out.append({"case": "live", **_run(["bench/bench_live_ingest.py", "--events", str(n)])})
    return out


def web_cases(sizes: list[int]) -> list[dict]:
    out = []
    for n in sizes:
        print(f"web pages under load, {n:,} accounts ...", file=sys.stderr, flush=True)
        out.append({"case": "web", **_run(["bench/bench_web.py", "--accounts", str(n)])})
    return out


def metrics_cases(sizes: list[int]) -> list[dict]:
    if not (HERE / "bench_metrics.py").exists():
        return []
    print(f"metrics at {sizes} accounts ...", file=sys.stderr, flush=True)
    res = _run(["bench/bench_metrics.py", "--accounts", *map(str, sizes)])
    rows = res if isinstance(res, list) else res.get("results", [res])
    return [{"case": "metrics", **r} for r in rows]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true", help="small sizes only (a minute or two)")
    p.add_argument("--cases", default=",".join(GROUPS), help=f"comma-separated, of: {', '.join(GROUPS)}")
    args = p.parse_args()
    wanted = set(args.cases.split(","))
    unknown = wanted - set(GROUPS)
    if unknown:
        p.error(f"unknown case group(s): {', '.join(sorted(unknown))}")
    import_sizes = [200_000] if args.quick else [1_000_000, 10_000_000]
    demo_sizes = [1_000] if args.quick else [10_000, 100_000]  # 100k accounts: ~160M events
    metric_sizes = [10_000] if args.quick else [10_000, 100_000, 1_000_000]
    health_sizes = [1_000] if args.quick else [10_000, 100_000]
    predict_sizes = [1_000] if args.quick else [100_000]
    playbook_sizes = [5_000] if args.quick else [10_000, 100_000]
    live_sizes = [20_000] if args.quick else [20_000, 100_000]
    web_sizes = [2_000] if args.quick else [100_000]
    groups = {
        "import": lambda: import_cases(import_sizes),
        "demo": lambda: demo_cases(demo_sizes),
        "metrics": lambda: metrics_cases(metric_sizes),
        "health": lambda: health_cases(health_sizes),
        "predict": lambda: predict_cases(predict_sizes),
        "playbooks": lambda: playbook_cases(playbook_sizes),
        "live": lambda: live_cases(live_sizes),
        "web": lambda: web_cases(web_sizes),
    }
    t0 = time.perf_counter()
    report = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "system": platform.platform()},
        "cases": [g for g in GROUPS if g in wanted],
        "results": [r for g in GROUPS if g in wanted for r in groups[g]()],
    }
    report["seconds"] = round(time.perf_counter() - t0, 1)
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    path = out_dir / f"bench-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(report, indent=2))
    for r in report["results"]:
        print(json.dumps(r))
    print(f"report: {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
