"""NPS and CSAT arithmetic and intervals, by hand, and over a tiny warehouse.

Adjusted Wald (Rocks 2016; Sauro and Lewis): n' = n + 3, p = (P + .75) / n',
d = (D + .75) / n', se = sqrt((p + d - (p - d)^2) / n'), 100 x (p - d +- 1.96 se).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from helix.errors import UserError
from helix.voice.nps import csat_of, nps_of

from ...helpers import once
from ..exec.home import build

Z = 1.959963984540054


def _adjusted(p: int, pa: int, d: int) -> tuple[float, float]:
    n = p + pa + d + 3
    pp, dd = (p + 0.75) / n, (d + 0.75) / n
    se = math.sqrt((pp + dd - (pp - dd) ** 2) / n)
    return max(-100, 100 * (pp - dd - Z * se)), min(100, 100 * (pp - dd + Z * se))


def test_nps_is_promoters_minus_detractors() -> None:
    s = nps_of([10, 9, 9, 8, 7, 6, 0, 3, 10, 10])  # P 5, passives 2, D 3
    d = s.to_dict()
    assert (d["promoters"], d["passives"], d["detractors"], d["n"]) == (5, 2, 3, 10)
    assert d["nps"] == 20.0
    lo, hi = _adjusted(5, 2, 3)
    assert d["ci"] == [round(lo, 2), round(hi, 2)]
    # plain Wald: var = (0.5 + 0.3 - 0.04) / 10
    half = Z * math.sqrt(0.076) * 100
    assert d["ci_wald"] == [round(20 - half, 2), round(20 + half, 2)]


def test_no_answers() -> None:
    d = nps_of([]).to_dict()
    assert d["n"] == 0 and d["nps"] is None and d["ci"] is None and d["promoter_share"] is None


def test_all_passives() -> None:
    d = nps_of([7, 8, 8]).to_dict()
    assert d["nps"] == 0.0
    assert d["ci_wald"] == [0.0, 0.0]  # why the plain Wald interval is not the headline
    # n' = 6, p = d = .125: se = sqrt(.25 / 6), half = 1.96 x .2041 = 40.01 points
    assert d["ci"] == [-40.01, 40.01]


def test_one_answer() -> None:
    d = nps_of([10]).to_dict()
    assert d["nps"] == 100.0 and d["small_sample"]
    # n' = 4, p = .4375, d = .1875, var = (.625 - .0625) / 4 = .140625, se = .375
    assert d["ci"] == [round(25 - Z * 37.5, 2), round(min(100, 25 + Z * 37.5), 2)]
    assert nps_of([0]).to_dict()["nps"] == -100.0


def test_out_of_range_answers_are_refused() -> None:
    with pytest.raises(UserError):
        nps_of([11])
    with pytest.raises(UserError):
        csat_of([0])


def test_csat_is_share_of_4_and_5() -> None:
    d = csat_of([5, 4, 3, 2, 1]).to_dict()
    assert d["csat"] == 0.4 and d["mean_score"] == 3.0
    # Wilson, 2 of 5
    p, n = 0.4, 5
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    assert d["ci"] == [round(centre - half, 6), round(centre + half, 6)]
    assert csat_of([]).to_dict()["csat"] is None


@pytest.fixture
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return once("voice_home", lambda: build(tmp_path_factory.mktemp("voice")))


def test_voice_scores_over_time_and_by_segment(home: Path) -> None:
    from helix.config import Settings
    from helix.platform import Platform
    from helix.voice.nps import voice_scores

    with Platform(Settings.load(home)) as p:
        doc = voice_scores(p.warehouse, "nps")
        by_tier = voice_scores(p.warehouse, "nps", segment_by="tier", by="quarter")
        csat = voice_scores(p.warehouse, "csat")
    # May: 10, 3, 8 -> P1 D1 -> 0; June: 9, 5, 6 -> P1 D2 -> -33.33
    assert [(r["period"], r["nps"]) for r in doc["series"]] == [
        ("2024-05-01", 0.0), ("2024-06-01", -33.33)]
    assert doc["overall"]["nps"] == round(100 * (2 - 3) / 6, 2)
    seg = {r["segment"]: r["nps"] for r in doc["segments"]}
    assert seg == {"Enterprise": 100.0, "Mid-Market": -100.0, "SMB": -50.0}
    assert [r["period"] for r in by_tier["series"]] == ["2024-04-01"]
    assert csat["overall"]["csat"] == round(2 / 3, 6)
