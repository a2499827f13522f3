"""The board slide: its numbers equal `helix metrics` / `helix forecast` to the cent,
in the JSON and in the PowerPoint file (text and native chart data)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pptx import Presentation
from typer.testing import CliRunner

from helix.cli.main import app
from helix.errors import UserError
from helix.reports.formats import money, pct

from ...helpers import cli_json


def _shapes(slide: Any) -> dict[str, Any]:
    return {s.name: s for s in slide.shapes}


def _table_text(shape: Any) -> list[list[str]]:
    return [[c.text for c in row.cells] for row in shape.table.rows]


@pytest.fixture(scope="module")
def made(built: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("board")
    doc = cli_json(
        built,
        "report",
        "board",
        "--period",
        "2025Q3",
        "--out",
        str(out / "board.pptx"),
        "--pdf",
        str(out / "board.pdf"),
    )
    return {
        "doc": doc,
        "dir": out,
        "metrics": cli_json(
            built, "metrics", "retention", "--start", "2025-07-01", "--end", "2025-10-01"
        ),
        "prior": cli_json(
            built, "metrics", "retention", "--start", "2025-04-01", "--end", "2025-07-01"
        ),
        "cohorts": cli_json(built, "metrics", "cohorts", "--as-of", "2025-10-01"),
        "forecast": cli_json(
            built,
            "forecast",
            "renewals",
            "--from",
            "2025-10-01",
            "--to",
            "2025-12-31",
            "--as-of",
            "2025-10-01",
        ),
    }


def test_json_numbers_are_the_metrics_to_the_cent(made: dict[str, Any]) -> None:
    doc, m, prior = made["doc"], made["metrics"], made["prior"]
    assert doc["retention"] == m
    assert {k: v for k, v in doc["prior"].items() if k != "period"} == prior
    assert doc["headline"]["nrr"]["value"] == m["nrr"]
    assert doc["headline"]["nrr"]["prior"] == prior["nrr"]
    assert doc["headline"]["grr"]["value"] == m["grr"]
    assert doc["headline"]["logo_retention"]["value"] == m["logo_retention"]
    assert doc["composition"]["churn"] == m["churn_by_type"]
    growth = Decimal(str(m["expansion_mrr"])) + Decimal(str(m["new_mrr"]))
    share = float(Decimal(str(m["expansion_mrr"])) / growth)
    assert doc["composition"]["expansion_share_of_growth"] == pytest.approx(share, abs=1e-12)
    assert doc["cohorts"] == made["cohorts"]
    f = made["forecast"]
    assert doc["forecast"]["buckets"] == f["buckets"]
    assert doc["forecast"]["arr"] == f["arr"]
    at_risk = Decimal(str(f["buckets"]["at_risk"]["arr"])) + Decimal(
        str(f["buckets"]["critical"]["arr"])
    )
    assert Decimal(str(doc["forecast"]["at_risk_arr"])) == at_risk
    assert doc["files"]["pptx"].endswith("board.pptx")


def test_the_slide_shows_the_metrics(made: dict[str, Any]) -> None:
    m, prior = made["metrics"], made["prior"]
    prs = Presentation(str(made["dir"] / "board.pptx"))
    assert len(prs.slides) == 2  # the slide and its appendix
    s = _shapes(prs.slides[0])
    nrr = s["nrr"].text_frame.text
    assert "Net revenue retention" in nrr and pct(m["nrr"]) in nrr and pct(prior["nrr"]) in nrr
    assert pct(m["grr"]) in s["grr"].text_frame.text
    assert pct(m["logo_retention"]) in s["logo_retention"].text_frame.text
    comp = s["composition"].text_frame.text
    for kind in ("involuntary", "voluntary", "downgrade"):
        assert money(Decimal(str(m["churn_by_type"][kind]))) in comp
    assert money(Decimal(str(m["expansion_mrr"]))) in comp
    # native chart data: the exact amounts
    chart = s["composition_chart"].chart
    values = list(chart.plots[0].series[0].values)
    cb = m["churn_by_type"]
    assert values == [
        cb["involuntary"],
        cb["voluntary"],
        cb["unknown"],
        cb["downgrade"],
        m["expansion_mrr"],
    ]


def test_the_cohort_chart_holds_the_cohort_table(made: dict[str, Any]) -> None:
    prs = Presentation(str(made["dir"] / "board.pptx"))
    chart = _shapes(prs.slides[0])["cohort_chart"].chart
    rows = made["cohorts"]["rows"][-8:]
    series = list(chart.plots[0].series)
    assert [x.name for x in series] == [f"{r['cohort']} ({r['accounts']})" for r in rows]
    for x, r in zip(series, rows, strict=True):
        assert list(x.values)[: len(r["values"])] == r["values"]


def test_forecast_and_risks_on_the_slide(made: dict[str, Any]) -> None:
    doc, f = made["doc"], made["forecast"]
    prs = Presentation(str(made["dir"] / "board.pptx"))
    s = _shapes(prs.slides[0])
    table = _table_text(s["forecast"])
    assert table[0][0] == "Renewals 2025Q4"
    likely = next(r for r in table if r[0] == "Likely")
    assert likely[1] == str(f["buckets"]["likely"]["renewals"])
    assert likely[2] == money(Decimal(str(f["buckets"]["likely"]["arr"])))
    risks = s["risks"].text_frame.text
    assert money(Decimal(str(doc["forecast"]["at_risk_arr"]))) in risks
    assert len(doc["risks"]) == 2
    for r in doc["risks"]:
        assert r["title"] in risks and r["plan"]["summary"] in risks
    # the largest at-risk renewal is a risk
    at_risk = [i for i in f["items"] if i["bucket"] in ("at_risk", "critical")]
    biggest = max(at_risk, key=lambda i: i["arr"])
    assert any(r.get("account_id") == biggest["account_id"] for r in doc["risks"])


def test_the_appendix_has_the_detail(made: dict[str, Any]) -> None:
    m = made["metrics"]
    prs = Presentation(str(made["dir"] / "board.pptx"))
    s = _shapes(prs.slides[1])
    detail = {row[0]: row[1:] for row in _table_text(s["retention_detail"])}
    assert detail["Start MRR"][0] == money(Decimal(str(m["start_mrr"])))
    assert detail["Churned MRR"][0] == money(Decimal(str(m["churned_mrr"])))
    assert detail["Expansion MRR"][0] == money(Decimal(str(m["expansion_mrr"])))
    assert detail["End MRR (of the start cohort)"][0] == money(Decimal(str(m["end_mrr"])))
    assert detail["NRR"][0] == pct(m["nrr"])
    segments = [row[0] for row in _table_text(s["segments"])[1:]]
    assert segments == sorted(segments) and segments
    assert "at_risk_renewals" in s


def test_the_pdf_has_the_same_two_pages(made: dict[str, Any]) -> None:
    data = (made["dir"] / "board.pdf").read_bytes()
    assert data.startswith(b"%PDF")
    assert (
        data.count(b"/Type /Page\n") + data.count(b"/Type /Page ") + data.count(b"/Type /Page>")
        >= 2
    )


def test_targets_come_from_the_settings(home: Path, tmp_path: Path) -> None:
    cli_json(home, "settings", "set", "board_targets", '{"nrr": 1.10, "grr": 0.9}')
    doc = cli_json(home, "report", "board", "--period", "2025Q3", "--out", str(tmp_path / "b.pptx"))
    nrr = doc["headline"]["nrr"]
    assert nrr["target"] == 1.10
    assert nrr["vs_target"] == pytest.approx(nrr["value"] - 1.10)
    assert doc["headline"]["logo_retention"]["target"] is None
    text = _shapes(Presentation(str(tmp_path / "b.pptx")).slides[0])["nrr"].text_frame.text
    assert "target: 110.0%" in text


def _error(home: Path, *args: str) -> str:
    """Run a command that must fail with a user error; its message for people."""
    r = CliRunner().invoke(app, ["--home", str(home), *args])
    assert isinstance(r.exception, UserError), (r.stdout, r.exception)
    return r.exception.for_people()


def test_bad_targets_and_periods_are_clear(home: Path, tmp_path: Path) -> None:
    assert "quarters 1 to 4" in _error(home, "report", "board", "--period", "2025Q7", "--json")
    msg = _error(home, "report", "board", "--period", "2025Q4", "--json")
    assert "is not over in the data" in msg and "choose 2025Q3 or earlier" in msg
    out = str(tmp_path / "b.ppt")
    assert "must end in .pptx" in _error(
        home, "report", "board", "--period", "2025Q3", "--out", out
    )
    cli_json(home, "settings", "set", "board_targets", '{"nrr": "high"}')
    msg = _error(home, "report", "board", "--period", "2025Q3", "--json")
    assert "board_targets.nrr must be a fraction" in msg

# builds a demo company or a live server: run by `make test-slow`
pytestmark = pytest.mark.slow
