"""Scoring functions and the model: bounded, monotone, explainable, versioned."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helix.errors import ConfigError
from helix.health.model import HealthModel, Scoring, default_model
from helix.health.scoring import CONTRIB_PREFIX, points, score_frame

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
values = st.lists(st.one_of(finite, st.just(float("nan"))), min_size=1, max_size=40)


@st.composite
def linear(draw: st.DrawFn) -> Scoring:
    zero, full = draw(finite), draw(finite)
    if zero == full:
        full = zero + 1.0
    return Scoring("linear", zero=zero, full=full)


@st.composite
def thresholds(draw: st.DrawFn) -> Scoring:
    bounds = sorted(set(draw(st.lists(finite, min_size=1, max_size=5))))
    pts = sorted(draw(st.lists(st.floats(0, 100), min_size=len(bounds), max_size=len(bounds))))
    if draw(st.booleans()):
        pts = pts[::-1]
    return Scoring("thresholds", steps=tuple(zip(bounds, pts, strict=True)))


def _bounded_nan_preserving(s: Scoring, xs: list[float]) -> None:
    x = np.array(xs)
    p = points(s, x, np.zeros(len(x)))
    assert np.array_equal(np.isnan(p), np.isnan(x))
    assert np.all((p[~np.isnan(p)] >= 0) & (p[~np.isnan(p)] <= 100))


@given(s=st.one_of(linear(), thresholds(), st.builds(Scoring, st.just("percentile"), higher_is_better=st.booleans())), xs=values)
def test_points_are_bounded_and_keep_missing_values_missing(s: Scoring, xs: list[float]) -> None:
    _bounded_nan_preserving(s, xs)


@given(s=linear(), xs=st.lists(finite, min_size=2, max_size=30))
def test_linear_points_follow_the_direction_of_the_line(s: Scoring, xs: list[float]) -> None:
    x = np.sort(np.array(xs))
    p = points(s, x)
    d = np.diff(p)
    assert np.all(d >= -1e-9) if s.full > s.zero else np.all(d <= 1e-9)  # type: ignore[operator]


@given(s=thresholds(), xs=st.lists(finite, min_size=2, max_size=30))
def test_thresholds_follow_the_order_of_their_points(s: Scoring, xs: list[float]) -> None:
    x = np.sort(np.array(xs))
    p = points(s, x)
    pts = [v for _, v in s.steps]
    d = np.diff(p)
    assert np.all(d >= 0) if pts == sorted(pts) else np.all(d <= 0)


@given(xs=st.lists(finite, min_size=2, max_size=30), higher=st.booleans())
def test_percentile_ranks_within_each_date(xs: list[float], higher: bool) -> None:
    x = np.sort(np.array(xs))
    p = points(Scoring("percentile", higher_is_better=higher), x, np.zeros(len(x)))
    assert np.all(np.diff(p) >= 0) if higher else np.all(np.diff(p) <= 0)


def test_hand_computed_points() -> None:
    lin = Scoring("linear", zero=0.1, full=0.8)
    assert points(lin, np.array([0.0, 0.1, 0.45, 0.8, 2.0])).tolist() == pytest.approx([0, 0, 50, 100, 100])
    down = Scoring("linear", zero=30, full=3)  # days since last activity: fewer is better
    assert points(down, np.array([3.0, 16.5, 30.0])).tolist() == pytest.approx([100, 50, 0])
    steps = Scoring("thresholds", steps=((0, 100), (1, 30)))
    assert points(steps, np.array([-1.0, 0.0, 0.5, 1.0, 7.0])).tolist() == [100, 100, 100, 30, 30]


MODEL = {
    "name": "t",
    "version": 3,
    "colors": {"green_from": 70, "red_below": 40},
    "groups": {
        "usage": {"weight": 60, "measures": [
            {"signal": "seat_utilisation", "weight": 3, "scoring": {"type": "linear", "zero": 0, "full": 1}},
            {"signal": "login_ratio", "weight": 1, "scoring": {"type": "linear", "zero": 0, "full": 1}},
        ]},
        "sentiment": {"weight": 40, "measures": [
            {"signal": "nps_latest", "weight": 1, "scoring": {"type": "linear", "zero": 0, "full": 10}},
            {"signal": "csat_latest", "weight": 1, "missing": 50,
             "scoring": {"type": "linear", "zero": 1, "full": 5}},
        ]},
    },
    "responses": {"red": {"owner_role": "leader", "action": "escalate", "deadline_days": 3}},
}  # fmt: skip


def _frame(rows: list[dict[str, float]]) -> pd.DataFrame:
    base = {"seat_utilisation": np.nan, "login_ratio": np.nan, "nps_latest": np.nan, "csat_latest": np.nan}
    return pd.DataFrame(
        [{"account_id": f"A{i}", "score_date": pd.Timestamp("2025-01-01"), **base, **r} for i, r in enumerate(rows)]
    )


def test_a_score_by_hand_with_missing_data_redistributed() -> None:
    model = HealthModel.from_dict(MODEL)
    out = score_frame(_frame([
        {"seat_utilisation": 0.5, "login_ratio": 1.0, "nps_latest": 8, "csat_latest": 5},
        {"seat_utilisation": 0.5, "nps_latest": 8},  # no login ratio: its weight goes to seats
        {"nps_latest": 2},  # no usage at all: sentiment carries the whole score
    ]), model)  # fmt: skip
    # usage = (3*50 + 1*100)/4 = 62.5; sentiment = (80 + 100)/2 = 90; overall = .6*62.5 + .4*90
    assert out.loc[0, "usage_score"] == pytest.approx(62.5)
    assert out.loc[0, "sentiment_score"] == pytest.approx(90)
    assert out.loc[0, "score"] == pytest.approx(73.5) and out.loc[0, "color"] == "green"
    # row 1: usage = 50 (seats alone); csat missing counts as 50 points: sentiment = (80+50)/2
    assert out.loc[1, "usage_score"] == pytest.approx(50)
    assert out.loc[1, "score"] == pytest.approx(0.6 * 50 + 0.4 * 65)
    assert out.loc[1, "missing"] == ["login_ratio"]
    # row 2: sentiment = (20 + 50)/2 = 35, and it is the whole score: red
    assert np.isnan(out.loc[2, "usage_score"])
    assert out.loc[2, "score"] == pytest.approx(35) and out.loc[2, "color"] == "red"
    assert set(out.loc[2, "missing"]) == {"seat_utilisation", "login_ratio"}


@given(rows=st.lists(
    st.fixed_dictionaries({}, optional={
        "seat_utilisation": st.floats(-1, 3), "login_ratio": st.floats(-1, 3),
        "nps_latest": st.floats(0, 10), "csat_latest": st.floats(1, 5),
    }),
    min_size=1, max_size=20,
))  # fmt: skip
@settings(max_examples=60, deadline=None)
def test_scores_are_bounded_and_their_contributions_add_up(rows: list[dict[str, float]]) -> None:
    out = score_frame(_frame(rows), HealthModel.from_dict(MODEL))
    contrib = out[[c for c in out.columns if c.startswith(CONTRIB_PREFIX)]].sum(axis=1)
    scored = out["score"].notna()
    assert ((out.loc[scored, "score"] >= 0) & (out.loc[scored, "score"] <= 100)).all()
    assert np.allclose(contrib[scored], out.loc[scored, "score"])


@given(base=st.floats(0, 1), more=st.floats(0, 1))
def test_more_usage_never_lowers_the_score(base: float, more: float) -> None:
    model = HealthModel.from_dict(MODEL)
    lo, hi = sorted([base, more])
    out = score_frame(_frame([{"seat_utilisation": lo, "nps_latest": 5}, {"seat_utilisation": hi, "nps_latest": 5}]), model)
    assert out.loc[1, "score"] >= out.loc[0, "score"] - 1e-9


def test_versions_follow_content() -> None:
    a = HealthModel.from_dict(MODEL)
    assert HealthModel.from_dict(a.to_dict()) == a
    assert a.version_id.startswith("3-") and len(a.version_id) == 10
    changed = {**MODEL, "colors": {"green_from": 75, "red_below": 40}}
    assert HealthModel.from_dict(changed).content_hash != a.content_hash
    assert HealthModel.from_dict({**MODEL, "version": 4}).content_hash == a.content_hash
    assert a.responses["red"].owner_role == "leader" and a.responses["red"].deadline_days == 3
    assert default_model().version_id == default_model().version_id


@pytest.mark.parametrize(
    ("patch", "fragment"),
    [
        ({"groups": {}}, "at least one group"),
        ({"colors": {"green_from": 40, "red_below": 70}}, "red_below <= green_from"),
        ({"groups": {"u": {"measures": [{"signal": "nope", "scoring": {"type": "linear", "zero": 0, "full": 1}}]}}}, "unknown signal"),
        ({"groups": {"u": {"measures": [{"signal": "plateau", "weight": -1, "scoring": {"type": "linear", "zero": 0, "full": 1}}]}}}, "weight must be >= 0"),
        ({"groups": {"u": {"measures": [{"signal": "plateau", "scoring": {"type": "linear", "zero": 1, "full": 1}}]}}}, "zero != full"),
        ({"groups": {"u": {"measures": [{"signal": "plateau", "scoring": {"type": "thresholds", "steps": [[1, 0], [0, 100]]}}]}}}, "ascending"),
        ({"groups": {"u": {"measures": [{"signal": "plateau", "scoring": {"type": "magic"}}]}}}, "must be linear, thresholds or percentile"),
        ({"responses": {"purple": {}}}, "unknown colour"),
        ({"groups": {"u": {"weight": -5, "measures": [{"signal": "plateau", "scoring": {"type": "linear", "zero": 0, "full": 1}}]}}}, "groups.u: weight must be >= 0"),
        ({"groups": {"u": {"weight": 0, "measures": [{"signal": "plateau", "scoring": {"type": "linear", "zero": 0, "full": 1}}]}}}, "weight above 0"),
        # misspelt keys are errors, never silently ignored
        ({"colours": {"green_from": 80}}, "the health model: unknown key colours"),
        ({"colors": {"green": 80}}, "colors: unknown key green"),
        ({"groups": {"u": {"wieght": 2, "measures": [{"signal": "plateau", "scoring": {"type": "linear", "zero": 0, "full": 1}}]}}}, "groups.u: unknown key wieght"),
        ({"groups": {"u": {"measures": [{"signal": "plateau", "mising": 50, "scoring": {"type": "linear", "zero": 0, "full": 1}}]}}}, r"measures\[0\]: unknown key mising"),
        ({"groups": {"u": {"measures": [{"signal": "plateau", "scoring": {"type": "linear", "zero": 0, "full": 1, "ful": 2}}]}}}, "scoring: unknown key ful"),
        ({"responses": {"red": {"owner": "leader"}}}, "responses.red: unknown key owner"),
    ],
)  # fmt: skip
def test_bad_models_are_clear_errors(patch: dict, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        HealthModel.from_dict({**MODEL, **patch})


def test_color_cut_offs() -> None:
    m = HealthModel.from_dict(MODEL)
    assert [m.color_of(s) for s in (100, 70, 69.99, 40, 39.99, 0, None)] == [
        "green", "green", "yellow", "yellow", "red", "red", None
    ]
