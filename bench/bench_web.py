"""Web pages under load: the portfolio and the Customer 360 at 100k accounts.

    python bench/bench_web.py --accounts 100000 [--seed-accounts 2000] [--duration 60]

How the stores are made. The real pipeline at 100k accounts takes most of an hour
(`bench_health.py`), so a demo company of ``--seed-accounts`` accounts goes through
all of it (`helix demo`: import, `helix run` with the health backfill, model
training and daily scoring, playbooks) and its stores are then scaled up: every
warehouse table holding an ``account_id`` is replaced by ``accounts / seed``
copies of itself with the account ids (and every other ``*_id``) suffixed, so the
tables have the pipeline's own schemas and per-account content and the row counts
of a 100k-account company (events included: ~1,500 per account); the copies of
the events and the ledger are written as the warehouse writes them (a dozen
Parquet parts, each ordered by account). Open tasks are copied the same way in the app store.

Then `helix serve` runs in its own process and a load generator on loopback
(httpx, asyncio) plays users signed in (a CS leader, who sees all 100k accounts,
and a CSM, who sees a book) requesting, turn by turn, the portfolio's first page
sorted by churn risk and a Customer 360 of a random account:

* ``paced``: ``--users`` users (20) each waiting ``--think`` seconds (1 s) between
  requests, as people do; the target (p95 < 300 ms) is read here;
* ``closed``: the same users with no wait at all (wrk-style saturation), showing
  the server's throughput ceiling and what latency does past it;
* ``single``: one user, one request at a time (the baseline: the pages' own cost).

Each reports per page: requests, errors, p50 / p95 / p99 / max in ms, and
requests/s; plus the server's peak RSS. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))

import serving  # noqa: E402

SEED_END = "2026-11-15"
PAGES = ("portfolio", "customer360")
PORTFOLIO = "/accounts?sort=risk"


def _helix(*args: str, home: Path) -> list[str]:
    cli = "from helix.cli.main import app; app()"
    return [sys.executable, "-c", cli, "--home", str(home), *args]


def seed(home: Path, accounts: int) -> dict[str, Any]:
    """A demo company through the whole pipeline (the real thing, at seed size)."""
    t0 = time.perf_counter()
    out = subprocess.run(
        _helix("demo", "--no-serve", "--accounts", str(accounts), "--months", "18",
               "--end", SEED_END, "--json", home=home),
        capture_output=True, text=True, check=True,
    )
    doc = json.loads(out.stdout)
    return {"accounts": accounts, "seconds": round(time.perf_counter() - t0, 1),
            "csm": next(u["email"] for u in doc["users"] if u["role"] == "csm"),
            "leader": next(u["email"] for u in doc["users"] if u["role"] == "leader"),
            "password": doc["password"]}


def _copy_expr(t: Any, k: int) -> Any:
    """Copy ``k`` of a table: every ``*_id`` string suffixed (copy 0 is the original)."""
    if k == 0:
        return t
    changes = {}
    for name, dtype in t.schema().items():
        named = name == "name" and "account_id" in t.columns
        if dtype.is_string() and (name.endswith("_id") or named):
            changes[name] = t[name] + f"~{k}"
    return t.mutate(**changes)


def scale(home: Path, factor: int) -> dict[str, int]:
    """Every account-holding warehouse table (and open tasks) copied ``factor`` times."""
    import ibis

    from helix.warehouse import open_warehouse

    rows: dict[str, int] = {}
    wh = open_warehouse(f"duckdb://{home / 'warehouse.duckdb'}")
    try:
        for name in wh.list_tables():
            if name.startswith(("helix_", "_helix")):
                continue
            t = wh.table(name)
            if "account_id" not in t.columns:
                continue
            copies = [_copy_expr(t, k) for k in range(factor)]
            # written as the product writes (Parquet parts, at most a dozen, for events
            # and the ledger): groups of copies, one part each
            step = max(1, -(-factor // 12))
            groups = [ibis.union(*copies[i : i + step], distinct=False) if step > 1
                      else copies[i] for i in range(0, factor, step)]
            wh.write_parts(name, groups)
            rows[name] = wh.count(name)
            print(f"  {name}: {rows[name]:,} rows", file=sys.stderr, flush=True)
    finally:
        wh.close()
    con = sqlite3.connect(home / "app.db")
    try:
        cols = [r[1] for r in con.execute("PRAGMA table_info(tasks)") if r[1] != "id"]
        for k in range(1, factor):
            picked = ", ".join(
                f"account_id || '~{k}'" if c == "account_id" else "NULL" if c == "step_id" else c
                for c in cols
            )
            con.execute(
                f"INSERT INTO tasks ({', '.join(cols)}) SELECT {picked} FROM tasks "  # noqa: S608
                "WHERE account_id NOT LIKE '%~%'"
            )
        con.commit()
        rows["tasks"] = con.execute("SELECT count(*) FROM tasks").fetchone()[0]
    finally:
        con.close()
    return rows


def _account_ids(home: Path, n: int, owner: str | None = None) -> list[str]:
    from helix.warehouse import open_warehouse

    wh = open_warehouse(f"duckdb://{home / 'warehouse.duckdb'}")
    try:
        t = wh.table("account_summary")
        t = t.filter(t.active == 1)
        if owner:
            t = t.filter(t.owner_email == owner)
        ids = t.select("account_id").to_pyarrow().column(0).to_pylist()
    finally:
        wh.close()
    return random.Random(11).sample(ids, min(n, len(ids)))


async def _login(client: httpx.AsyncClient, email: str, password: str) -> None:
    form = await client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token, "no CSRF token on the login page"
    r = await client.post("/login", data={"email": email, "password": password,
                                          "csrf": token.group(1)})
    assert r.status_code == 303, f"login as {email} failed: {r.status_code}"


def _summary(samples: dict[str, list[float]], errors: dict[str, int], seconds: float) -> dict:
    out = {}
    for page in PAGES:
        xs = sorted(samples[page])
        if not xs:
            continue

        def pct(q: float, xs: list[float] = xs) -> float:
            return round(1000 * xs[min(len(xs) - 1, int(q * len(xs)))], 1)

        out[page] = {"requests": len(xs), "errors": errors[page], "p50_ms": pct(0.50),
                     "p95_ms": pct(0.95), "p99_ms": pct(0.99), "max_ms": round(1000 * xs[-1], 1),
                     "requests_per_s": round(len(xs) / seconds, 1)}
    return out


async def load(url: str, users: list[tuple[str, str, list[str]]], duration: float,
               think: float) -> dict:
    """Each user alternates the portfolio's first page and a random Customer 360."""
    samples: dict[str, list[float]] = {p: [] for p in PAGES}
    errors = {p: 0 for p in PAGES}
    clients = []
    for email, password, _ in users:
        c = httpx.AsyncClient(base_url=url, timeout=120)
        await _login(c, email, password)
        clients.append(c)
    stop = time.perf_counter() + duration

    async def user(i: int) -> None:
        rng = random.Random(i)
        ids = users[i][2]
        turn = i % 2
        while time.perf_counter() < stop:
            page = PAGES[turn % 2]
            path = PORTFOLIO if page == "portfolio" else f"/accounts/{rng.choice(ids)}"
            t0 = time.perf_counter()
            r = await clients[i].get(path)
            took = time.perf_counter() - t0
            if r.status_code == 200:
                samples[page].append(took)
            else:
                errors[page] += 1
            turn += 1
            if think:
                await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))

    t0 = time.perf_counter()
    try:
        await asyncio.gather(*[user(i) for i in range(len(users))])
    finally:
        for c in clients:
            await c.aclose()
    return _summary(samples, errors, time.perf_counter() - t0)


def _peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def run(work: Path, accounts: int, seed_accounts: int, n_users: int, duration: float,
        think: float, keep_seed: Path | None) -> dict[str, Any]:
    home = work / "home"
    seed_home = keep_seed or work / "seed"
    info_file = seed_home / "bench-seed.json"
    if info_file.exists():
        info = json.loads(info_file.read_text())
    else:
        print(f"seed company of {seed_accounts:,} accounts through the pipeline ...",
              file=sys.stderr, flush=True)
        info = seed(seed_home, seed_accounts)
        info_file.write_text(json.dumps(info))
    factor = max(1, round(accounts / info["accounts"]))
    scaled = home / "bench-scaled.json"
    if scaled.exists() and json.loads(scaled.read_text())["factor"] == factor:
        done = json.loads(scaled.read_text())  # --work kept from an earlier run
        rows, scale_s = done["rows"], done["seconds"]
    else:
        print(f"scaling x{factor} ...", file=sys.stderr, flush=True)
        shutil.rmtree(home, ignore_errors=True)
        shutil.copytree(seed_home, home)
        t0 = time.perf_counter()
        rows = scale(home, factor)
        scale_s = time.perf_counter() - t0
        scaled.write_text(json.dumps({"factor": factor, "rows": rows, "seconds": scale_s}))
    leader_ids = _account_ids(home, 500)
    csm_ids = _account_ids(home, 500, owner=info["csm"])

    port = serving.free_port()
    url = f"http://127.0.0.1:{port}"
    server = serving.start(_helix("serve", "--port", str(port), home=home), url, "/login",
                           stdout=subprocess.DEVNULL)
    try:
        people = [(info["leader"], info["password"], leader_ids) if i % 2 == 0
                  else (info["csm"], info["password"], csm_ids) for i in range(n_users)]
        # warm-up: first requests open the stores and fill the caches
        asyncio.run(load(url, people[:2], 5, 0))
        print("single user ...", file=sys.stderr, flush=True)
        single = asyncio.run(load(url, people[:1], duration / 2, 0))
        print(f"{n_users} users, {think} s think time ...", file=sys.stderr, flush=True)
        paced = asyncio.run(load(url, people, duration, think))
        print(f"{n_users} users, no think time ...", file=sys.stderr, flush=True)
        closed = asyncio.run(load(url, people, duration / 2, 0))
        peak = _peak_mb(server.pid)
    finally:
        server.terminate()
        server.wait(30)
    return {
        "accounts": rows.get("account_summary"), "seed_accounts": info["accounts"],
        "scale_factor": factor, "rows": rows, "scale_seconds": round(scale_s, 1),
        "users": n_users, "think_seconds": think, "duration_seconds": duration,
        "paced": paced, "closed": closed, "single": single, "server_peak_rss_mb": peak,
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--accounts", type=int, default=100_000)
    p.add_argument("--seed-accounts", type=int, default=2_000)
    p.add_argument("--users", type=int, default=20)
    p.add_argument("--duration", type=float, default=60.0)
    p.add_argument("--think", type=float, default=1.0)
    p.add_argument("--seed-home", type=Path, default=None,
                   help="keep the seed company here and reuse it on the next run")
    p.add_argument("--work", type=Path, default=None)
    args = p.parse_args()
    with serving.work_dir("helix-bench-web-", args.work) as work:
        result = run(work, args.accounts, args.seed_accounts, args.users, args.duration,
                     args.think, args.seed_home)
    print(json.dumps({"case": "web", **result}))


if __name__ == "__main__":
    main()
