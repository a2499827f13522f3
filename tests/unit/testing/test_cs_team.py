"""The demo company's CS team: the onboarding-stall play moves the first value moment of
treated stalled accounts only, and which accounts are treated is Helix's own holdout draw."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from helix.playbooks.engine import holdout_draw
from helix.testing.demo import generate_company
from helix.testing.demo.cs_team import (
    ONBOARDING_PLAY,
    RESCUE_DAYS,
    holdout_of,
    rescue_stalled_onboarding,
    treated,
)

END = date(2025, 6, 1)
SALT = "an-organisation-salt"


def test_treated_is_the_engines_draw() -> None:
    ids = [f"acct-{i:06d}" for i in range(1, 400)]
    got = treated(SALT, ONBOARDING_PLAY, ids)
    assert holdout_of(ONBOARDING_PLAY) == 0.1
    assert got.tolist() == [holdout_draw(SALT, ONBOARDING_PLAY, a) >= 0.1 for a in ids]
    assert 0 < (~got).sum() < 80  # about 10% held out


@given(
    ttv=st.lists(st.one_of(st.floats(3.0, 720.0), st.just(float("inf"))), min_size=1, max_size=60),
    seed=st.integers(0, 2**32 - 1),
)
@settings(max_examples=60, deadline=None)
def test_rescue_only_brings_value_forward_for_treated_stalled_accounts(
    ttv: list[float], seed: int
) -> None:
    ids = [f"acct-{i:06d}" for i in range(1, len(ttv) + 1)]
    before = np.array(ttv)
    after = rescue_stalled_onboarding(np.random.default_rng(seed), ids, before, SALT)
    on = treated(SALT, ONBOARDING_PLAY, ids)
    changed = after != before
    assert not (changed & ~on).any()  # held-out accounts keep their time to value
    assert not (changed & (before <= 60)).any()  # so do accounts that never stalled
    assert (after <= before).all()
    lo, hi = 61 + RESCUE_DAYS[0], 61 + RESCUE_DAYS[1]
    assert ((after[changed] >= lo) & (after[changed] <= hi)).all()


def _bytes(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_the_cs_team_acts_only_through_the_rescue(tmp_path: Path, monkeypatch) -> None:
    """A CS team that rescues nobody leaves the company byte-identical; the real one is
    asked about every account by the id Helix will import."""
    import helix.testing.demo.generate as gen

    asked: list[str] = []

    def nobody(rng: np.random.Generator, ids: list[str], ttv: np.ndarray, salt: str):
        asked.extend(ids)
        assert salt == SALT
        return ttv

    monkeypatch.setattr(gen, "rescue_stalled_onboarding", nobody)
    plain = generate_company(tmp_path / "plain", accounts=150, months=6, seed=3, end=END)
    idle = generate_company(tmp_path / "idle", accounts=150, months=6, seed=3, end=END,
                            cs_salt=SALT)
    assert (plain.cs_plays, idle.cs_plays) == (False, True)
    assert _bytes(tmp_path / "plain") == _bytes(tmp_path / "idle")
    accounts = pq.read_table(tmp_path / "plain" / "accounts.parquet", columns=["account_id"])
    assert asked == accounts["account_id"].to_pylist()
    monkeypatch.undo()
    generate_company(tmp_path / "team", accounts=150, months=6, seed=3, end=END, cs_salt=SALT)
    assert _bytes(tmp_path / "plain") != _bytes(tmp_path / "team")
