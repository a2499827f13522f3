"""Property tests: what goes in comes back out, whatever the order, and twice is once."""

from __future__ import annotations

import shutil
import tempfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helix.ingest import import_files
from helix.warehouse import open_warehouse

from .conftest import write_csv

ident = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12
)
money = st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False, allow_infinity=False)


@st.composite
def companies(draw):  # type: ignore[no-untyped-def]
    ids = draw(st.lists(ident, min_size=1, max_size=8, unique=True))
    names = draw(st.lists(ident, min_size=len(ids), max_size=len(ids)))
    subs = []
    for i, acc in enumerate(ids):
        for j in range(draw(st.integers(0, 3))):
            start = date(2023, 1, 1) + timedelta(days=draw(st.integers(0, 700)))
            length = draw(st.one_of(st.none(), st.integers(1, 400)))
            end = None if length is None else start + timedelta(days=length)
            subs.append([f"S{i}-{j}", acc, "core", start.isoformat(), end and end.isoformat(), draw(money)])
    return list(zip(ids, names, strict=True)), subs


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(companies(), st.randoms(use_true_random=False))
def test_round_trip_and_idempotence(company, rnd) -> None:  # type: ignore[no-untyped-def]
    accounts, subs = company
    tmp = Path(tempfile.mkdtemp())
    try:
        d = tmp / "in"
        rnd.shuffle(subs)
        write_csv(d / "accounts.csv", ["account_id", "name"], [list(a) for a in accounts])
        write_csv(
            d / "subscriptions.csv",
            ["subscription_id", "account_id", "product", "start_date", "end_date", "mrr"],
            subs,
        )
        wh = open_warehouse(f"duckdb://{tmp / 'wh.duckdb'}")
        report = import_files(wh, d, imports_dir=tmp / "r")
        assert report.error_count == 0
        got_acc = {(r["account_id"], r["name"]) for r in wh.table("accounts").to_pyarrow().to_pylist()}
        assert got_acc == set(accounts)  # identifiers and names exactly as given, no trimming
        got_subs = {
            (r["subscription_id"], r["account_id"], r["start_date"].isoformat(),
             r["end_date"] and r["end_date"].isoformat(), Decimal(r["mrr"]).quantize(Decimal("0.01")))
            for r in wh.table("subscriptions").to_pyarrow().to_pylist()
        }
        assert got_subs == {(s[0], s[1], s[3], s[4], Decimal(s[5])) for s in subs}
        versions = wh.table_versions()
        again = import_files(wh, d, imports_dir=tmp / "r")
        assert again.changed_tables == [] and wh.table_versions() == versions
        wh.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
