"""Scorecards: levels, average, priority (ties), guidance bands, validation."""

from __future__ import annotations

import pytest

from helix.errors import UserError
from helix.exec.frameworks import FRAMEWORKS, evaluate, guidance_band, level_of

MATURITY = {"strategy": 4, "organisation": 5, "technology": 6, "processes": 3, "talent": 5,
            "measurement": 4}


def test_level_names_follow_seed_003() -> None:
    assert [level_of(s) for s in range(1, 11)] == [
        "Initial", "Initial", "Developing", "Developing", "Defined", "Defined",
        "Optimized", "Optimized", "Leading", "Leading"]
    assert level_of(4.99) == "Developing"  # an average takes its whole part's level


def test_maturity_average_priority_and_guidance() -> None:
    card = evaluate("maturity", MATURITY).to_dict()
    assert card["average"] == 4.5  # 27 / 6
    assert card["priority"] == ["processes"]
    assert card["guidance"]["band"] == "foundation"
    rows = {i["key"]: i for i in card["items"]}
    assert rows["processes"]["level"] == "Developing" and rows["processes"]["priority"]
    assert rows["technology"]["looks_like"] == "CS platform"


def test_ties_flag_every_lowest_item_in_framework_order() -> None:
    card = evaluate("pillars", {k: 6 for k in FRAMEWORKS["pillars"].item_keys()} | {
        "talent_excellence": 2, "strategic_foundation": 2})
    assert card.priority == ["strategic_foundation", "talent_excellence"]
    assert card.guidance is None  # the seeds give guidance by average for maturity only


@pytest.mark.parametrize(("average", "band"), [
    (4.99, "foundation"), (5.0, "scale"), (7.0, "scale"), (7.01, "advanced")])
def test_guidance_bands(average: float, band: str) -> None:
    assert guidance_band(average) == band


@pytest.mark.parametrize("bad", [0, 11, 5.5, "x", True, None])
def test_scores_are_whole_numbers_1_to_10(bad: object) -> None:
    with pytest.raises(UserError):
        evaluate("imperatives", {"elevation": bad, "technology": 5, "commercial": 5,
                                 "innovation": 5})


def test_every_item_and_nothing_else() -> None:
    with pytest.raises(UserError, match="needs a score for talent"):
        evaluate("maturity", {k: v for k, v in MATURITY.items() if k != "talent"})
    with pytest.raises(UserError, match="no item"):
        evaluate("maturity", {**MATURITY, "vibes": 3})
    with pytest.raises(UserError, match="unknown scorecard"):
        evaluate("astrology", {})
