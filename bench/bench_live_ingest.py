"""Live ingestion throughput: Segment batches into a real Helix server on loopback.

A uvicorn server (its own process, as `helix serve` runs) serves a data directory
with 1,000 accounts. ``--events`` track messages are sent as ``/v1/batch``
requests of ``--batch`` messages by ``--concurrency`` concurrent httpx clients.
Measured:

* accepted: events/s until the last 200 (each 200 means fsynced in the spool);
* end to end: events/s until the background flush has moved every event into the
  warehouse; the warehouse count afterwards proves that none was lost, and a
  resent slice of batches proves that duplicates add nothing;
* peak RSS of the server process;
* baselines in the same run: single-event ``/v1/track`` requests (what a client
  without batching gets), and the same events loaded from a Parquet file by
  ``helix import`` (the bulk path the flush itself uses).

Run directly: ``python bench/bench_live_ingest.py --events 20000``; prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import random
import resource
import sqlite3
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))

import serving  # noqa: E402
import synth  # noqa: E402

ACCOUNTS = 1_000
SINGLE_EVENTS = 2_000
_SERVE = (
    "import sys, uvicorn; from helix.api.app import create_app; from helix.config import Settings; "
    "from helix.api.lease import SERVE_HOLD_SECONDS; "
    "uvicorn.run(create_app(Settings.load(sys.argv[1]), hold_warehouse_s=SERVE_HOLD_SECONDS), "
    "host='127.0.0.1', port=int(sys.argv[2]), "
    "log_level='warning')"
)


def prepare(work: Path) -> tuple[Path, str]:
    """A data directory with the accounts, and an ingest key."""
    from helix.config import Settings
    from helix.ingest import import_files
    from helix.platform import Platform
    from helix.store import Scope, create_key

    base = work / "base"
    base.mkdir(parents=True, exist_ok=True)
    synth.write_accounts(base, ACCOUNTS, fmt="parquet")
    home = work / "home"
    with Platform(Settings.load(home)) as p:
        import_files(p.warehouse, base, imports_dir=p.settings.imports_dir)
        with p.store.session() as s:
            _, key = create_key(s, name="bench", scope=Scope.INGEST, actor="bench")
    return home, key


def messages(n: int, start: int = 0, seed: int = 7) -> list[dict]:
    rng = random.Random(seed + start)
    now = datetime.now(UTC).replace(microsecond=0)
    types = [str(t) for t in synth.EVENT_TYPES]
    return [
        {
            "type": "track",
            "messageId": f"bench-{i}",
            "userId": f"user-{rng.randrange(20_000)}",
            "event": rng.choice(types),
            "timestamp": (now - timedelta(seconds=rng.randrange(30 * 86400))).isoformat(),
            "context": {"groupId": f"ACC{rng.randrange(ACCOUNTS):07d}"},
            "properties": {"value": 1},
        }
        for i in range(start, start + n)
    ]


async def _send(url: str, auth: str, bodies: list[tuple[str, bytes]], concurrency: int) -> dict:
    """POST each ``(path, body)``; 503s are retried after their Retry-After."""
    queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
    for item in bodies:
        queue.put_nowait(item)
    stats = {"accepted": 0, "duplicates": 0, "retries_503": 0, "errors": 0}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:

        async def worker() -> None:
            while not queue.empty():
                path, body = queue.get_nowait()
                while True:
                    r = await client.post(
                        path,
                        content=body,
                        headers={"Authorization": auth, "Content-Type": "application/json"},
                    )
                    if r.status_code == 503:
                        stats["retries_503"] += 1
                        await asyncio.sleep(float(r.headers.get("Retry-After", "1")))
                        continue
                    if r.status_code != 200:
                        stats["errors"] += 1
                        print(r.status_code, r.text[:300], file=sys.stderr)
                    else:
                        got = r.json()
                        stats["accepted"] += got["accepted"]
                        stats["duplicates"] += got["duplicates"]
                    break

        await asyncio.gather(*[worker() for _ in range(concurrency)])
    return stats


def _spool_counts(home: Path) -> dict[str, int]:
    con = sqlite3.connect(f"file:{home / 'live' / 'spool.db'}?mode=ro", uri=True, timeout=30)
    try:
        return dict(con.execute("SELECT state, count(*) FROM messages GROUP BY state").fetchall())
    finally:
        con.close()


def _server_peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def _warehouse_events(home: Path) -> int:
    from helix.warehouse import open_warehouse

    wh = open_warehouse(f"duckdb://{home / 'warehouse.duckdb'}")
    try:
        return wh.count("events")
    finally:
        wh.close()


def run(work: Path, n: int, batch: int, concurrency: int, single: int) -> dict:
    home, key = prepare(work)
    port = serving.free_port()
    url = f"http://127.0.0.1:{port}"
    server = serving.start([sys.executable, "-c", _SERVE, str(home), str(port)], url,
                           "/openapi.json")
    try:
        auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
        msgs = messages(n)
        # encoded up front: the clock measures the server, not the client's JSON encoder
        bodies = [
            ("/v1/batch", json.dumps({"batch": msgs[i : i + batch]}).encode())
            for i in range(0, n, batch)
        ]

        t0 = time.perf_counter()
        sent = asyncio.run(_send(url, auth, bodies, concurrency))
        accept_s = time.perf_counter() - t0
        while _spool_counts(home).get("loaded", 0) < n:
            time.sleep(0.05)
        e2e_s = time.perf_counter() - t0

        # the same batches again: every message is a duplicate
        resent = asyncio.run(_send(url, auth, bodies[: max(1, len(bodies) // 10)], concurrency))

        # baseline 1: one event per request
        singles = [("/v1/track", json.dumps(m).encode()) for m in messages(single, start=n)]
        t1 = time.perf_counter()
        one = asyncio.run(_send(url, auth, singles, concurrency))
        single_s = time.perf_counter() - t1
        while _spool_counts(home).get("loaded", 0) < n + single:
            time.sleep(0.05)
        peak = _server_peak_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=60)
    counts = _spool_counts(home)
    stored = _warehouse_events(home)

    # baseline 2: the same n events from a Parquet file, by the importer
    import pyarrow as pa
    import pyarrow.parquet as pq

    from helix.ingest import import_files
    from helix.warehouse import open_warehouse

    ev = pa.table(
        {
            "account_id": [m["context"]["groupId"] for m in msgs],
            "event_time": pa.array(
                [datetime.fromisoformat(m["timestamp"]).replace(tzinfo=None) for m in msgs],
                pa.timestamp("us"),
            ),
            "event_type": [m["event"] for m in msgs],
            "user_id": [m["userId"] for m in msgs],
            "value": [1.0] * n,
            "event_id": [m["messageId"] for m in msgs],
        }
    )
    (work / "file").mkdir()
    pq.write_table(ev, work / "file" / "events.parquet")
    wh = open_warehouse(f"duckdb://{work / 'file.duckdb'}")
    import_files(wh, work / "base", imports_dir=work / "reports")
    t2 = time.perf_counter()
    import_files(wh, work / "file", imports_dir=work / "reports")
    file_s = time.perf_counter() - t2
    wh.close()

    return {
        "events": n,
        "batch": batch,
        "concurrency": concurrency,
        "accepted": sent["accepted"],
        "http_errors": sent["errors"] + one["errors"],
        "retries_503": sent["retries_503"],
        "accept_seconds": round(accept_s, 3),
        "accepted_events_per_s": round(n / accept_s),
        "end_to_end_seconds": round(e2e_s, 3),
        "end_to_end_events_per_s": round(n / e2e_s),
        "resent_duplicates": resent["duplicates"],
        "resent_accepted": resent["accepted"],
        "warehouse_events": stored,
        "expected_events": n + single,
        "lost": n + single - stored,
        "spool": counts,
        "server_peak_rss_mb": peak,
        "bench_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "baseline_single_requests": {
            "events": single,
            "seconds": round(single_s, 3),
            "events_per_s": round(single / single_s),
        },
        "baseline_file_import": {
            "events": n,
            "seconds": round(file_s, 3),
            "events_per_s": round(n / file_s),
        },
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--events", type=int, required=True)
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--single", type=int, default=SINGLE_EVENTS, help="events sent one per request")
    p.add_argument("--work", type=Path, default=None)
    args = p.parse_args()
    with serving.work_dir("helix-bench-live-", args.work) as work:
        result = run(work, args.events, args.batch, args.concurrency, args.single)
    print(json.dumps({"case": "live", **result}))


if __name__ == "__main__":
    main()
