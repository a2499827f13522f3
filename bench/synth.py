"""Synthetic contract files for benchmarks: fast to make, realistic in shape."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

EVENT_TYPES = np.array(["login", "report_created", "dashboard_viewed", "export", "api_call", "invite_sent"])


def write_accounts(out: Path, n_accounts: int, fmt: str = "parquet") -> None:
    ids = [f"ACC{i:07d}" for i in range(n_accounts)]
    accounts = pa.table({"account_id": ids, "name": [f"Company {i}" for i in range(n_accounts)]})
    subs = pa.table(
        {
            "subscription_id": [f"SUB{i:07d}" for i in range(n_accounts)],
            "account_id": ids,
            "product": ["core"] * n_accounts,
            "start_date": pa.array([datetime(2024, 1, 1).date()] * n_accounts, pa.date32()),
            "mrr": pa.array(np.round(np.random.default_rng(1).uniform(50, 5000, n_accounts), 2)),
        }
    )
    _write(accounts, out / f"accounts.{fmt}", fmt)
    _write(subs, out / f"subscriptions.{fmt}", fmt)


def write_events(path: Path, n_events: int, n_accounts: int, fmt: str, seed: int = 3) -> None:
    """``n_events`` unique events over ``n_accounts`` accounts, written in chunks."""
    rng = np.random.default_rng(seed)
    chunk = 1_000_000
    base = np.datetime64("2024-01-01T00:00:00", "us")
    writer = None
    done = 0
    try:
        while done < n_events:
            n = min(chunk, n_events - done)
            acc = rng.integers(0, n_accounts, n)
            # unique timestamps per event keep the identity of every event distinct
            ts = base + (np.arange(done, done + n, dtype=np.int64) * 997_000).astype("timedelta64[us]")
            table = pa.table(
                {
                    "account_id": pa.array(np.char.add("ACC", np.char.zfill(acc.astype(str), 7))),
                    "event_time": pa.array(ts, pa.timestamp("us")),
                    "event_type": pa.array(EVENT_TYPES[rng.integers(0, len(EVENT_TYPES), n)]),
                    "user_id": pa.array(np.char.add("u", rng.integers(0, 50, n).astype(str))),
                }
            )
            if writer is None:
                writer = (
                    pq.ParquetWriter(path, table.schema)
                    if fmt == "parquet"
                    else pacsv.CSVWriter(path, table.schema)
                )
            writer.write_table(table)
            done += n
    finally:
        if writer is not None:
            writer.close()


def _write(table: pa.Table, path: Path, fmt: str) -> None:
    if fmt == "parquet":
        pq.write_table(table, path)
    else:
        pacsv.write_csv(table, path)
