"""Retention metrics at scale: Helix (Ibis on DuckDB) vs a plain pandas implementation.

For N accounts it synthesises six years of realistic subscription histories
with numpy (seat growth and cuts, price rises, tier changes, add-on products,
churn by segment, returns, churn reasons and failed payments), loads them
into a DuckDB warehouse, and times:

* the MRR movements ledger (every account x month, written to the warehouse);
* a 24-month monthly retention series;
* one 12-month retention window;

then the same three with a vectorised pandas implementation of the same
rules, checks that both give the same totals, and reports seconds, input
rows per second and peak memory (RSS) of each step.

    python bench/bench_metrics.py --accounts 10000 100000

prints one JSON document (on one line: ``{"results": [...]}``). Each size
runs in its own process, so each peak memory is that size's own.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psutil
import pyarrow as pa

from helix.metrics import retention_series, retention_window
from helix.metrics.loading import load_frame
from helix.metrics.periods import add_months
from helix.pipeline import run_pipeline
from helix.warehouse import open_warehouse

ORIGIN = date(2019, 1, 1)
AS_OF = date(2025, 1, 1)
HORIZON = (AS_OF - ORIGIN).days
SEGMENTS = np.array(["smb", "mid_market", "enterprise"])
PLANS = np.array(["basic", "pro", "enterprise"])
EPOCH = np.datetime64(ORIGIN.isoformat(), "D")


# -- synthetic company ------------------------------------------------------------------


def _group_cumsum(values: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Cumulative sum restarting at each group (groups are contiguous)."""
    total = np.cumsum(values)
    before = np.repeat(total[starts] - values[starts], sizes)
    return total - before


def synthesise(accounts: int, seed: int = 7) -> dict[str, pa.Table]:
    """Accounts, subscriptions, churn_reasons and payments of a plausible B2B SaaS company."""
    rng = np.random.default_rng(seed)
    n = accounts
    seg = rng.choice(3, n, p=[0.7, 0.22, 0.08])
    start = (HORIZON - 30) * rng.random(n) ** 0.6  # more customers recently: a growing company
    start = start.astype(np.int64)
    hazard = np.array([0.25, 0.12, 0.06])[seg]  # annual logo churn by segment
    tenure = rng.exponential(365.0 / hazard).astype(np.int64) + 30
    end = start + tenure
    churned = end < HORIZON
    last = np.minimum(end, HORIZON)
    unit0 = np.round(np.array([40.0, 60.0, 90.0])[seg] * rng.uniform(0.8, 1.25, n), 2)
    seats0 = np.maximum(1, np.round(np.array([8, 60, 300])[seg] * rng.lognormal(0, 0.5, n)))
    plan0 = rng.choice(2, n, p=[0.7, 0.3])

    # changes inside each account's life: seats, prices, tiers
    k = np.minimum(rng.poisson((last - start) / 365.0 * 1.3), 12)
    rows_per = k + 1
    total = int(rows_per.sum())
    acct = np.repeat(np.arange(n), rows_per)
    first = np.cumsum(rows_per) - rows_per
    pos = np.arange(total) - np.repeat(first, rows_per)
    span = np.repeat(last - start, rows_per)
    offsets = np.where(
        pos == 0, 0, 1 + (rng.random(total) * np.maximum(span - 2, 1)).astype(np.int64)
    )
    order = np.lexsort((offsets, acct))
    offsets = offsets[order]
    kind = rng.choice(5, total, p=[0.45, 0.15, 0.15, 0.15, 0.10])
    kind[pos == 0] = -1
    seat_f = np.where(
        kind == 0,
        rng.uniform(1.1, 1.5, total),
        np.where(kind == 1, rng.uniform(0.6, 0.9, total), 1.0),
    )
    unit_f = np.where(kind == 2, 1.06, np.where(kind == 3, 1.5, np.where(kind == 4, 1 / 1.5, 1.0)))
    plan_d = np.where(kind == 3, 1, np.where(kind == 4, -1, 0))
    seats = np.maximum(
        1,
        np.round(
            np.repeat(seats0, rows_per) * np.exp(_group_cumsum(np.log(seat_f), first, rows_per))
        ),
    )
    unit = np.round(
        np.repeat(unit0, rows_per) * np.exp(_group_cumsum(np.log(unit_f), first, rows_per)), 2
    )
    plan = np.clip(np.repeat(plan0, rows_per) + _group_cumsum(plan_d, first, rows_per), 0, 2)
    row_start = np.repeat(start, rows_per) + offsets
    nxt = np.append(row_start[1:], 0)
    is_last = pos == k[acct]
    row_end = np.where(is_last, np.repeat(end, rows_per), nxt)
    ongoing = is_last & ~np.repeat(churned, rows_per)
    core = {
        "account": acct,
        "product": np.zeros(total, np.int8),
        "plan": plan,
        "start": row_start,
        "end": row_end,
        "ongoing": ongoing,
        "mrr": np.round(seats * unit, 2),
        "qty": seats,
    }

    # add-on products (cross-sell), some dropped later
    has = rng.random(n) < 0.25
    a = np.flatnonzero(has)
    a_start = start[a] + (rng.random(a.size) * (last[a] - start[a])).astype(np.int64)
    dropped = rng.random(a.size) < 0.4
    a_end = np.where(dropped, a_start + rng.integers(60, 900, a.size), end[a])
    a_end = np.minimum(a_end, end[a])
    keep = a_end > a_start
    a, a_start, a_end = a[keep], a_start[keep], a_end[keep]
    addon = {
        "account": a,
        "product": np.ones(a.size, np.int8),
        "plan": np.zeros(a.size, np.int64),
        "start": a_start,
        "end": a_end,
        "ongoing": (a_end == end[a]) & ~churned[a],
        "mrr": np.round(rng.uniform(50, 500, a.size), 2),
        "qty": np.full(a.size, np.nan),
    }

    # some churned customers come back
    back = np.flatnonzero(churned & (rng.random(n) < 0.08))
    b_start = end[back] + rng.integers(30, 400, back.size)
    ok = b_start < HORIZON
    back, b_start = back[ok], b_start[ok]
    b_end = b_start + rng.exponential(500, back.size).astype(np.int64) + 30
    returns = {
        "account": back,
        "product": np.zeros(back.size, np.int8),
        "plan": np.zeros(back.size, np.int64),
        "start": b_start,
        "end": b_end,
        "ongoing": b_end >= HORIZON,
        "mrr": np.round(unit0[back] * seats0[back], 2),
        "qty": seats0[back],
    }
    parts = [core, addon, returns]
    cat = {key: np.concatenate([p[key] for p in parts]) for key in core}
    m = cat["start"].size
    ids = np.char.add("A", np.char.zfill(cat["account"].astype(str), 8))
    subs = pa.table(
        {
            "subscription_id": np.char.add("S", np.arange(m).astype(str)),
            "account_id": ids,
            "product": np.array(["core", "addon"])[cat["product"]],
            "plan": PLANS[cat["plan"]],
            "start_date": pa.array(EPOCH + cat["start"].astype("timedelta64[D]"), pa.date32()),
            "end_date": pa.array(
                EPOCH + cat["end"].astype("timedelta64[D]"), pa.date32(), mask=cat["ongoing"]
            ),
            "mrr": pa.array(cat["mrr"]),
            "quantity": pa.array(cat["qty"], mask=np.isnan(cat["qty"])),
        }
    )
    acc_ids = np.char.add("A", np.char.zfill(np.arange(n).astype(str), 8))
    accounts_t = pa.table(
        {
            "account_id": acc_ids,
            "name": np.char.add("Company ", np.arange(n).astype(str)),
            "segment": SEGMENTS[seg],
            "owner_email": np.char.add(
                np.char.add("csm", (np.arange(n) % max(1, n // 150)).astype(str)), "@example.com"
            ),
        }
    )
    c = np.flatnonzero(churned)
    recorded = rng.random(c.size) < 0.7
    rc = c[recorded]
    reasons = pa.table(
        {
            "account_id": acc_ids[rc],
            "churned_on": pa.array(
                EPOCH + (end[rc] + rng.integers(-20, 20, rc.size)).astype("timedelta64[D]"),
                pa.date32(),
            ),
            "churn_type": np.where(rng.random(rc.size) < 0.25, "involuntary", "voluntary"),
        }
    )
    pc = c[~recorded & (rng.random(c.size) < 0.3)]
    payments = pa.table(
        {
            "account_id": acc_ids[pc],
            "due_date": pa.array(
                EPOCH + (end[pc] - rng.integers(10, 40, pc.size)).astype("timedelta64[D]"),
                pa.date32(),
            ),
            "amount": pa.array(np.round(unit0[pc] * seats0[pc], 2)),
            "status": np.full(pc.size, "failed"),
        }
    )
    return {
        "accounts": accounts_t,
        "subscriptions": subs,
        "churn_reasons": reasons,
        "payments": payments,
    }


# -- the pandas baseline ------------------------------------------------------------------


def _days(col: pd.Series) -> np.ndarray:
    return (col.to_numpy().astype("datetime64[D]") - EPOCH).astype(np.int64)


def pandas_movements(data: dict[str, pa.Table], bounds: list[date]) -> pd.DataFrame:
    """Per-account movements over consecutive periods ``[bounds[i], bounds[i+1])``, in pandas.

    The same rules as helix.metrics (docs/metrics.md), written the way a
    competent analyst would in pandas: explode rows over the instants they
    cover, group, compare consecutive instants, attribute, type churn.
    """
    s = data["subscriptions"].to_pandas()
    s = s[s["mrr"] > 0]
    far = np.iinfo(np.int64).max // 4
    start = _days(s["start_date"])
    end = np.where(
        s["end_date"].isna(), far, _days(s["end_date"].fillna(pd.Timestamp("2000-01-01")))
    )
    b = np.array([(x - ORIGIN).days for x in bounds], np.int64)
    i0 = np.searchsorted(b, start, "left")
    i1 = np.searchsorted(b, end, "left")
    counts = np.maximum(i1 - i0, 0)
    rep = np.repeat(np.arange(len(s)), counts)
    bi = i0[rep] + (np.arange(rep.size) - np.repeat(np.cumsum(counts) - counts, counts))
    cents = np.round(s["mrr"].to_numpy(dtype=float) * 100).astype(np.int64)
    qty = s["quantity"].to_numpy(dtype=float)
    # plans as sorted integer codes (NaN when missing): min/max of object strings
    # would drop pandas into a per-group Python loop (hours at 1M accounts)
    codes, _ = pd.factorize(s["plan"], sort=True)
    plan = np.where(codes < 0, np.nan, codes.astype(float))
    x = pd.DataFrame(
        {
            "account": s["account_id"].to_numpy()[rep],
            "product": s["product"].to_numpy()[rep],
            "b": bi,
            "cents": cents[rep],
            "qty": qty[rep],
            "plan": plan[rep],
        }
    )
    g = (
        x.groupby(["account", "product", "b"], sort=False)
        .agg(
            cents=("cents", "sum"),
            qty=("qty", "sum"),
            nq=("qty", "count"),
            n=("qty", "size"),
            plo=("plan", "min"),
            phi=("plan", "max"),
        )
        .reset_index()
    )
    g.loc[g["nq"] < g["n"], "qty"] = np.nan
    left = g[g["b"] < len(b) - 1].rename(
        columns={"cents": "a0", "qty": "q0", "plo": "plo0", "phi": "phi0"}
    )
    right = g[g["b"] > 0].assign(b=lambda d: d["b"] - 1)
    right = right.rename(columns={"cents": "a1", "qty": "q1", "plo": "plo1", "phi": "phi1"})
    c = left[["account", "product", "b", "a0", "q0", "plo0", "phi0"]].merge(
        right[["account", "product", "b", "a1", "q1", "plo1", "phi1"]],
        on=["account", "product", "b"],
        how="outer",
    )
    c["a0"] = c["a0"].fillna(0).astype(np.int64)
    c["a1"] = c["a1"].fillna(0).astype(np.int64)
    c["delta"] = c["a1"] - c["a0"]
    plan_same = (c["plo0"].fillna(-1) == c["plo1"].fillna(-1)) & (
        c["phi0"].fillna(-1) == c["phi1"].fillna(-1)
    )
    seats = (
        (c["q0"] > 0)
        & (c["q1"] > 0)
        & (c["q0"] != c["q1"])
        & (c["a0"] * c["q1"] == c["a1"] * c["q0"])
    )
    c["ctype"] = np.select(
        [
            (c["a0"] == 0) & (c["a1"] > 0),
            (c["a0"] > 0) & (c["a1"] == 0),
            c["a0"] == c["a1"],
            ~plan_same,
            seats,
        ],
        ["cross_sell", "product_dropped", "none", "tier", "seats"],
        "usage_price",
    )
    c["net"] = c.groupby(["account", "b"], sort=False)["delta"].transform("sum")
    c["toward"] = np.where(c["net"] > 0, c["delta"], np.where(c["net"] < 0, -c["delta"], 0))
    c["prec"] = c["ctype"].map(
        {"cross_sell": 0, "product_dropped": 0, "tier": 1, "seats": 2, "usage_price": 3}
    )
    drivers = c.sort_values(
        ["account", "b", "toward", "prec", "product"], ascending=[True, True, False, True, True]
    )
    drivers = drivers.drop_duplicates(["account", "b"])[["account", "b", "ctype"]]
    acct = c.groupby(["account", "b"], sort=False)[["a0", "a1"]].sum().reset_index()
    acct = acct.merge(drivers, on=["account", "b"])
    first = pd.Series(start, index=s["account_id"].to_numpy()).groupby(level=0).min()
    acct["first"] = acct["account"].map(first).to_numpy()
    m0, m1 = acct["a0"].to_numpy(), acct["a1"].to_numpy()
    acct["movement"] = np.select(
        [
            (m0 == 0) & (m1 > 0) & (acct["first"].to_numpy() < b[acct["b"]]),
            (m0 == 0) & (m1 > 0),
            (m0 > 0) & (m1 == 0),
            m1 > m0,
            m1 < m0,
        ],
        ["reactivation", "new", "churn", "expansion", "contraction"],
        "none",
    )
    # churn types
    ch = acct[acct["movement"] == "churn"][["account", "b"]]
    rows = pd.DataFrame({"account": s["account_id"].to_numpy(), "rs": start, "re": end})
    j = ch.merge(rows, on="account")
    j = j[j["rs"] < b[j["b"] + 1]]
    cd = j.groupby(["account", "b"], sort=False)["re"].max().rename("cd").reset_index()
    r = data["churn_reasons"].to_pandas()
    ev = pd.concat(
        [
            pd.DataFrame(
                {"account": r["account_id"], "e": _days(r["churned_on"]), "kind": r["churn_type"]}
            ),
            pd.DataFrame(
                {
                    "account": data["payments"].to_pandas()["account_id"],
                    "e": _days(data["payments"].to_pandas()["due_date"]),
                    "kind": data["payments"].to_pandas()["status"],
                }
            ),
        ]
    )
    e = cd.merge(ev, on="account")
    e["dist"] = (e["e"] - e["cd"]).abs()
    e = e[e["dist"] <= 90]
    e["key"] = e["dist"] * 2 + (e["e"] < e["cd"]).astype(int)
    rec = e[e["kind"].isin(["voluntary", "involuntary"])].sort_values(
        ["account", "b", "key", "kind"]
    )
    rec = rec.drop_duplicates(["account", "b"])[["account", "b", "kind"]]
    pay = e[(e["e"] <= e["cd"]) & e["kind"].isin(["failed", "paid"])]
    lf = pay[pay["kind"] == "failed"].groupby(["account", "b"])["e"].max().rename("lf")
    lp = pay[pay["kind"] == "paid"].groupby(["account", "b"])["e"].max().rename("lp")
    cd = cd.merge(rec, on=["account", "b"], how="left").merge(
        lf.reset_index(), on=["account", "b"], how="left"
    )
    cd = cd.merge(lp.reset_index(), on=["account", "b"], how="left")
    failed = cd["lf"].notna() & (cd["lp"].isna() | (cd["lp"] < cd["lf"]))
    cd["ctype"] = np.where(
        cd["kind"].notna(), cd["kind"], np.where(failed, "involuntary", "unknown")
    )
    acct = acct.merge(
        cd[["account", "b", "ctype"]].rename(columns={"ctype": "churn_type"}),
        on=["account", "b"],
        how="left",
    )
    acct["type"] = np.where(
        acct["movement"].isin(["expansion", "contraction"]),
        acct["ctype"],
        np.where(acct["movement"] == "churn", acct["churn_type"], None),
    )
    return acct[["account", "b", "a0", "a1", "movement", "type"]]


def pandas_totals(mv: pd.DataFrame) -> pd.DataFrame:
    """Per-period totals in cents: the figures of a retention window."""
    on0 = mv["a0"] > 0
    t = pd.DataFrame(
        {
            "b": mv["b"],
            "start": np.where(on0, mv["a0"], 0),
            "end": np.where(on0, mv["a1"], 0),
            "new": np.where(~on0, mv["a1"], 0),
            "churned": np.where(mv["movement"] == "churn", mv["a0"], 0),
            "contraction": np.where(mv["movement"] == "contraction", mv["a0"] - mv["a1"], 0),
            "expansion": np.where(mv["movement"] == "expansion", mv["a1"] - mv["a0"], 0),
        }
    )
    return t.groupby("b").sum()


# -- measuring ------------------------------------------------------------------------------


@contextmanager
def measure(out: dict[str, Any], name: str, rows: int) -> Iterator[None]:
    """Time the block and sample this process's RSS every 5 ms for its peak."""
    proc = psutil.Process(os.getpid())
    peak = [proc.memory_info().rss]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            stop.wait(0.005)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    t0 = time.perf_counter()
    try:
        yield
    finally:
        seconds = time.perf_counter() - t0
        stop.set()
        thread.join()
        out[name] = {
            "seconds": round(seconds, 3),
            "rows_per_second": round(rows / seconds) if seconds else None,
            "peak_rss_mb": round(peak[0] / 2**20, 1),
        }


def _month_bounds(first: date, last: date) -> list[date]:
    out, m = [], first
    while m <= last:
        out.append(m)
        m = add_months(m, 1)
    return out


def bench_metrics(
    accounts: int, *, pandas_baseline: bool = True, work: str | None = None
) -> dict[str, Any]:
    """Time the ledger, a 24-month series and one window for ``accounts`` accounts."""
    result: dict[str, Any] = {"accounts": accounts}
    t0 = time.perf_counter()
    data = synthesise(accounts)
    result["generate_seconds"] = round(time.perf_counter() - t0, 2)
    n_rows = data["subscriptions"].num_rows
    result["subscription_rows"] = n_rows
    series_first, series_last = add_months(AS_OF, -24), add_months(AS_OF, -1)
    window = (add_months(AS_OF, -12), AS_OF)
    with tempfile.TemporaryDirectory(prefix="helix-bench-metrics-", dir=work) as tmp:
        wh = open_warehouse(f"duckdb://{Path(tmp) / 'wh.duckdb'}")
        try:
            t0 = time.perf_counter()
            for name, table in data.items():
                load_frame(wh, name, table)
            result["load_seconds"] = round(time.perf_counter() - t0, 2)
            helix: dict[str, Any] = {}
            with measure(helix, "ledger", n_rows):  # as `helix run` builds it
                run_pipeline(wh, as_of=AS_OF, only=["mrr_movements"])
            result["ledger_rows"] = wh.count("mrr_movements")
            with measure(helix, "series_24_months", n_rows):  # reads the ledger
                series = retention_series(wh, "monthly", series_first, series_last)
            with measure(helix, "series_24_months_from_subscriptions", n_rows):
                raw_series = retention_series(
                    wh, "monthly", series_first, series_last, use_ledger=False
                )
            result["series_from_ledger_equals_recomputed"] = (
                series.to_dict(detail=True) == raw_series.to_dict(detail=True)
            )
            with measure(helix, "window_12_months", n_rows):
                win = retention_window(wh, *window)
            t = wh.table("mrr_movements")
            led = t.group_by("month").aggregate(end=t.end_mrr.sum()).to_pandas()
            helix_ledger_end = {
                pd.Timestamp(r.month).date(): round(float(r.end) * 100) for r in led.itertuples()
            }
        finally:
            wh.close()
    result["helix"] = helix
    if pandas_baseline:
        base: dict[str, Any] = {}
        months = _month_bounds(date(2019, 1, 1), AS_OF)
        with measure(base, "ledger", n_rows):
            ledger_mv = pandas_movements(data, months)
            ledger_totals = pandas_totals(ledger_mv)
        with measure(base, "series_24_months", n_rows):
            series_totals = pandas_totals(
                pandas_movements(data, _month_bounds(series_first, AS_OF))
            )
        with measure(base, "window_12_months", n_rows):
            window_totals = pandas_totals(pandas_movements(data, list(window)))
        result["pandas"] = base
        result["speedup"] = {
            k: round(base[k]["seconds"] / helix[k]["seconds"], 1)
            for k in helix
            if k in base and helix[k]["seconds"]
        }
        result["speedup"]["series_24_months_from_subscriptions"] = round(
            base["series_24_months"]["seconds"]
            / helix["series_24_months_from_subscriptions"]["seconds"],
            1,
        )
        ledger_end = {months[int(i)]: int(r.end + r.new) for i, r in ledger_totals.iterrows()}
        agree = {"ledger": all(helix_ledger_end.get(m) == v for m, v in ledger_end.items())}
        ok = True
        for i, (_, w) in enumerate(series.windows):
            row = series_totals.loc[i]
            ok &= round(float(w.start_mrr) * 100) == row["start"]
            ok &= round(float(w.expansion_mrr) * 100) == row["expansion"]
            ok &= round(float(w.churned_mrr) * 100) == row["churned"]
        agree["series"] = bool(ok)
        row = window_totals.loc[0]
        agree["window"] = bool(
            round(float(win.end_mrr) * 100) == row["end"]
            and round(float(win.new_mrr) * 100) == row["new"]
        )
        result["pandas_agrees"] = agree
    result["window"] = {"nrr": win.nrr, "grr": win.grr, "start_mrr": float(win.start_mrr)}
    return result


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--accounts", type=int, nargs="+", default=[10_000])
    p.add_argument("--no-pandas", action="store_true", help="skip the pandas baseline")
    p.add_argument("--single", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--work", help="directory for the temporary warehouse (default: system temp)")
    args = p.parse_args(argv)
    if args.single:
        (n,) = args.accounts
        print(
            json.dumps(
                bench_metrics(n, pandas_baseline=not args.no_pandas, work=args.work), default=str
            )
        )
        return
    results = []
    for n in args.accounts:
        print(f"metrics bench: {n:,} accounts ...", file=sys.stderr, flush=True)
        cmd = [sys.executable, __file__, "--single", "--accounts", str(n)]
        cmd += ["--no-pandas"] if args.no_pandas else []
        cmd += ["--work", args.work] if args.work else []
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            results.append({"accounts": n, "error": proc.stderr.strip().splitlines()[-3:]})
        else:
            results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    print(json.dumps({"results": results}, default=str))


if __name__ == "__main__":
    main()
