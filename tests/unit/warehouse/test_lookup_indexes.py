"""Tables read one account at a time are indexed on account_id (DuckDB), and page
queries read them through the index with the same results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa

from helix.warehouse import open_warehouse
from helix.warehouse.connection import ACCOUNT_LOOKUP_TABLES, _through_account_index


def _indexes(wh: Any) -> set[str]:
    return {r[0] for r in wh.con.con.execute("SELECT table_name FROM duckdb_indexes()").fetchall()}


def _tickets(n: int) -> pa.Table:
    return pa.table({
        "ticket_id": [f"T{i}" for i in range(n)],
        "account_id": [f"A{i % 7}" for i in range(n)],
        "created_at": pa.array([1_700_000_000_000_000 + i * 3_600_000_000 for i in range(n)],
                               pa.timestamp("us")),
        "subject": [f"s{i}" for i in range(n)],
    })  # fmt: skip


def test_lookup_tables_are_indexed_and_stay_indexed_through_rewrites(tmp_path: Path) -> None:
    with open_warehouse(f"duckdb://{tmp_path / 'w.duckdb'}") as wh:
        present = set(wh.list_tables())
        assert {t for t in ACCOUNT_LOOKUP_TABLES if t in present} <= _indexes(wh)
        # a rewrite swaps a new table in by renaming (DuckDB cannot rename an indexed one)
        t = wh.table("tickets")
        for _ in range(2):
            wh.write_table("tickets", _full(t, 50))
            assert "tickets" in _indexes(wh)
        assert wh.count("tickets") == 50


def _full(t: Any, n: int) -> pa.Table:
    data = _tickets(n)
    cols = {}
    for name, dtype in t.schema().items():
        cols[name] = data[name] if name in data.column_names else pa.nulls(n, dtype.to_pyarrow())
    return pa.table(cols)


def test_a_page_query_reads_through_the_index_with_the_same_rows(tmp_path: Path) -> None:
    with open_warehouse(f"duckdb://{tmp_path / 'w.duckdb'}") as wh:
        wh.write_table("tickets", _full(wh.table("tickets"), 200))

        def latest(account_id: Any) -> Any:
            t = wh.table("tickets")
            mine = t.filter((t.account_id == account_id) & (t.subject != "s3"))
            return mine.order_by([ibis.desc("created_at"), "ticket_id"]).limit(5)

        for account in ("A1", "A4", "nobody"):
            got = wh.query("test.latest", latest, account_id=account).to_pylist()
            t = wh.table("tickets")
            want = (
                t.filter((t.account_id == account) & (t.subject != "s3"))
                .order_by([ibis.desc("created_at"), "ticket_id"]).limit(5)
                .to_pyarrow().to_pylist()
            )  # fmt: skip
            assert got == want
        sql = next(s for (k, _), (s, _) in wh._prepared.items() if k == "test.latest")
        assert 'MATERIALIZED (SELECT * FROM "tickets" WHERE "account_id" = $account_id)' in sql
        plan = wh.con.con.execute("EXPLAIN ANALYZE " + sql, {"account_id": "A1"}).fetchall()[0][1]
        assert "Index Scan" in plan


def test_only_tables_filtered_by_the_account_are_rewritten() -> None:
    filtered = 'SELECT * FROM "tickets" AS "t0" WHERE "t0"."account_id" = $account_id LIMIT 3'
    assert _through_account_index(filtered).startswith('WITH "_one_tickets" AS MATERIALIZED')
    other = 'SELECT * FROM "tickets" AS "t0" WHERE "t0"."subject" = $account_id'
    assert _through_account_index(other) == other
    with_cte = ('WITH "t1" AS (SELECT * FROM "contacts" AS "t0" WHERE "t0"."account_id" = '
                '$account_id) SELECT * FROM "t1"')  # fmt: skip
    out = _through_account_index(with_cte)
    assert out.startswith('WITH "_one_contacts" AS MATERIALIZED (') and ', "t1" AS (' in out
