"""A warehouse made by an older Helix gains the columns a newer one added."""

from __future__ import annotations

from pathlib import Path

from helix.warehouse import open_warehouse


def test_a_missing_column_is_added_on_open_and_rows_are_kept(tmp_path: Path) -> None:
    url = f"duckdb://{tmp_path / 'w.duckdb'}"
    with open_warehouse(url) as wh:
        wh.con.raw_sql(
            "INSERT INTO health_events (account_id, event_date, event, score) "
            "VALUES ('A1', DATE '2025-01-01', 'turned_red', 31.5)"
        )
        # an older Helix made neither the column nor the index (DuckDB cannot drop a
        # column of an indexed table)
        wh.con.raw_sql("DROP INDEX helix_by_account_health_events")
        wh.con.raw_sql("ALTER TABLE health_events DROP COLUMN drivers")
        wh.forget_catalog()  # changed behind the warehouse's back
        assert "drivers" not in wh.table("health_events").columns
    with open_warehouse(url) as wh:
        t = wh.table("health_events")
        assert "drivers" in t.columns
        rows = t.select("account_id", "score", "drivers").to_pyarrow().to_pylist()
        indexes = wh.con.con.execute("SELECT index_name FROM duckdb_indexes()").fetchall()
    assert ("helix_by_account_health_events",) in indexes  # made again on open
    assert rows == [{"account_id": "A1", "score": 31.5, "drivers": None}]
