"""The executive and voice-of-the-customer pages (server-rendered, Jinja2 + Vega-Lite).

Each page shows what the matching CLI command and API route compute, through the same
library calls (:mod:`helix.exec.service`, :mod:`helix.voice`), and draws each chart from
a Vega-Lite spec embedded in the page next to a table with the same numbers.

* ``GET /assessment``: the latest maturity assessment, four imperatives and six pillars
  with their history, Helix's evidence-based proposal, and (for leaders and admins) the
  questionnaire forms (``POST /assessment/{kind}``).
* ``GET /benchmarks``: quartiles and bands with the gap to the next level in dollars.
* ``GET /business-case``: the three-year case; what-if inputs are GET parameters.
* ``GET /roadmap``: phases, live gates, quick wins, progress; leaders record a checkpoint
  (``POST /roadmap/checkpoint``) and mark manual gates (``POST /roadmap/gates/{key}``).
* ``GET /voice``: NPS and CSAT over time and by segment, themes, closed-loop compliance.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from helix.api.deps import PlatformDep, Principal, get_warehouse
from helix.errors import UserError
from helix.store import Role
from helix.web.leader_pages import _message, _page
from helix.web.pages import _form_caller, _signed_in

router = APIRouter(include_in_schema=False)

VL = "https://vega.github.io/schema/vega-lite/v5.json"
KINDS = ("maturity", "imperatives", "pillars")


def _leads(p: Principal) -> bool:
    return p.role in (Role.ADMIN, Role.LEADER)


# -- charts ---------------------------------------------------------------------------


def scorecard_history_chart(history: dict[str, Any]) -> dict[str, Any]:
    """One line per item over the stored scorecards (1-10)."""
    values = [{"taken": e["taken_at"][:16], "item": i["name"], "score": i["score"]}
              for e in history["entries"] for i in e["items"]]
    values += [{"taken": e["taken_at"][:16], "item": "average", "score": e["average"]}
               for e in history["entries"]]
    return {"$schema": VL, "width": "container", "height": 220, "data": {"values": values},
            "mark": {"type": "line", "point": True},
            "encoding": {"x": {"field": "taken", "type": "ordinal", "title": None},
                         "y": {"field": "score", "type": "quantitative",
                               "scale": {"domain": [0, 10]}},
                         "color": {"field": "item", "type": "nominal"},
                         "tooltip": [{"field": "item"}, {"field": "score"},
                                     {"field": "taken"}]}}


def case_chart(doc: dict[str, Any]) -> dict[str, Any]:
    """Stacked yearly value by source, with the cumulative net as a line."""
    bars = [{"year": str(r["year"]), "source": s, "value": r[s]}
            for r in doc["table"] if r["year"] > 0
            for s in ("retention", "expansion", "efficiency")]
    line = [{"year": str(r["year"]), "cumulative": r["cumulative_net"]} for r in doc["table"]]
    return {"$schema": VL, "width": "container", "height": 240,
            "layer": [
                {"data": {"values": bars}, "mark": "bar",
                 "encoding": {"x": {"field": "year", "type": "ordinal"},
                              "y": {"field": "value", "type": "quantitative", "stack": True,
                                    "title": "value per year"},
                              "color": {"field": "source", "type": "nominal"},
                              "tooltip": [{"field": "source"},
                                          {"field": "value", "format": ",.0f"}]}},
                {"data": {"values": line}, "mark": {"type": "line", "point": True,
                                                   "color": "#101828"},
                 "encoding": {"x": {"field": "year", "type": "ordinal"},
                              "y": {"field": "cumulative", "type": "quantitative"},
                              "tooltip": [{"field": "cumulative", "format": ",.0f"}]}}]}


def gap_chart(doc: dict[str, Any]) -> dict[str, Any]:
    """The dollar gap to the next quartile of each metric that has one."""
    values = [{"metric": p["metric"].replace("_", " "), "gap": p["gap_dollars"]}
              for p in doc["placements"] if p["kind"] == "quartile" and p["gap_dollars"]]
    return {"$schema": VL, "width": "container", "height": 200, "data": {"values": values},
            "mark": "bar",
            "encoding": {"y": {"field": "metric", "type": "nominal", "title": None},
                         "x": {"field": "gap", "type": "quantitative",
                               "title": "gap to the next quartile, $ per year"},
                         "tooltip": [{"field": "metric"}, {"field": "gap", "format": ",.0f"}]}}


def nps_chart(doc: dict[str, Any]) -> dict[str, Any]:
    """NPS per period with its 95% interval as a band."""
    values = [{"period": r["period"], "nps": r["nps"], "low": r["ci"][0], "high": r["ci"][1],
               "n": r["n"]} for r in doc["series"] if r["ci"]]
    return {"$schema": VL, "width": "container", "height": 220, "data": {"values": values},
            "encoding": {"x": {"field": "period", "type": "ordinal", "title": None}},
            "layer": [
                {"mark": {"type": "area", "opacity": .2},
                 "encoding": {"y": {"field": "low", "type": "quantitative",
                                    "scale": {"domain": [-100, 100]}, "title": "NPS"},
                              "y2": {"field": "high"}}},
                {"mark": {"type": "line", "point": True},
                 "encoding": {"y": {"field": "nps", "type": "quantitative"},
                              "tooltip": [{"field": "period"}, {"field": "nps"},
                                          {"field": "low"}, {"field": "high"},
                                          {"field": "n"}]}}]}


def theme_chart(doc: dict[str, Any]) -> dict[str, Any]:
    """Texts per theme per month."""
    values = [{"theme": t["label"], "month": m["month"], "count": m["count"]}
              for t in doc["themes"] for m in t["trend"]]
    return {"$schema": VL, "width": "container", "height": 220, "data": {"values": values},
            "mark": {"type": "line", "point": True},
            "encoding": {"x": {"field": "month", "type": "ordinal", "title": None},
                         "y": {"field": "count", "type": "quantitative", "title": "texts"},
                         "color": {"field": "theme", "type": "nominal"},
                         "tooltip": [{"field": "theme"}, {"field": "month"},
                                     {"field": "count"}]}}


def progress_chart(doc: dict[str, Any]) -> dict[str, Any]:
    """Gates done at each stored checkpoint."""
    values = [{"taken": c["taken_at"][:16], "done": c["done"], "total": c["total"]}
              for c in doc["checkpoints"]]
    return {"$schema": VL, "width": "container", "height": 180, "data": {"values": values},
            "mark": {"type": "line", "point": True},
            "encoding": {"x": {"field": "taken", "type": "ordinal", "title": None},
                         "y": {"field": "done", "type": "quantitative", "title": "gates done"},
                         "tooltip": [{"field": "taken"}, {"field": "done"},
                                     {"field": "total"}]}}


# -- assessment ---------------------------------------------------------------------------


@router.get("/assessment", response_class=HTMLResponse)
def assessment_page(
    request: Request, platform: PlatformDep,
    message: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """The three scorecards: latest, history, evidence, and the forms for leaders."""
    from helix.exec import service

    who = _signed_in(request, platform)
    if who is None:
        return RedirectResponse("/login", status_code=303)
    cards = []
    for _wh in get_warehouse(platform):  # holds the warehouse for this request
        evidence = service.maturity_evidence(platform)
        for kind in KINDS:
            history = service.assessment_history(platform, kind)
            cards.append({"kind": kind, "questions": service.questionnaire(kind),
                          "history": history,
                          "latest": history["entries"][-1] if history["entries"] else None,
                          "chart": scorecard_history_chart(history)})
    return _page(request, "assessment.html", who, cards=cards, evidence=evidence,
                 can_take=_leads(who), message=message)


@router.post("/assessment/{kind}")
async def assessment_form(request: Request, platform: PlatformDep, kind: str) -> Response:
    """Store a scorecard from the form (leaders and admins)."""
    from helix.exec import service
    from helix.exec.frameworks import framework

    form = await request.form()
    who = _form_caller(request, platform, str(form.get("csrf", "")), _leads,
                       "only leaders and admins may take an assessment")
    if who is None:
        return RedirectResponse("/login", status_code=303)
    fw = framework(kind) if kind in KINDS else None
    if fw is None:
        return RedirectResponse("/assessment?message=unknown+scorecard", status_code=303)
    scores = {k: str(form.get(f"score_{k}", "")) for k in fw.item_keys()}
    notes = {k: str(form.get(f"note_{k}", ""))[:2000] for k in fw.item_keys()}
    try:
        for _wh in get_warehouse(platform):  # holds the warehouse for this request
            doc = service.take_assessment(platform, kind, scores, notes=notes, actor=who.name)
    except UserError as exc:
        return RedirectResponse(f"/assessment?message={_message(exc.for_people())}",
                                status_code=303)
    text = f"{fw.title} stored: average {doc['average']:.2f}"
    return RedirectResponse(f"/assessment?message={_message(text)}#{kind}", status_code=303)


# -- benchmarks and business case -----------------------------------------------------


@router.get("/benchmarks", response_class=HTMLResponse)
def benchmarks_page(
    request: Request, platform: PlatformDep,
    segment: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Benchmarks with the gap to the next quartile in dollars."""
    from helix.exec import service

    who = _signed_in(request, platform)
    if who is None:
        return RedirectResponse("/login", status_code=303)
    for _wh in get_warehouse(platform):  # holds the warehouse for this request
        doc = service.benchmark_doc(platform, segment=segment or None)
    return _page(request, "benchmarks.html", who, doc=doc, chart=gap_chart(doc),
                 segment=segment or "")


CASE_FIELDS = (
    ("arr", "ARR now", "money"), ("grr", "GRR now", "rate"),
    ("grr_target", "GRR target", "rate"), ("growth_arr", "Yearly ARR growth", "money"),
    ("expansion_share", "Expansion share now", "rate"),
    ("expansion_share_target", "Expansion share target", "rate"),
    ("cs_cost", "CS cost per year", "money"), ("efficiency", "Efficiency gain", "rate"),
    ("discount_rate", "Discount rate", "rate"), ("investment", "Up-front investment", "money"),
    ("annual_cost", "Running cost per year", "money"),
)
_CASE_KEY = {"grr": "grr_base", "expansion_share": "expansion_share_base",
             "efficiency": "efficiency_gain", "investment": "investment_upfront",
             "annual_cost": "investment_annual"}


@router.get("/business-case", response_class=HTMLResponse)
def business_case_page(request: Request, platform: PlatformDep) -> Response:
    """The business case; each what-if input is a GET parameter (empty: from the data)."""
    from helix.exec import service

    who = _signed_in(request, platform)
    if who is None:
        return RedirectResponse("/login", status_code=303)
    given: dict[str, Any] = {}
    error = None
    for name, _, _ in CASE_FIELDS:
        raw = request.query_params.get(name, "").strip()
        if raw:
            try:
                given[_CASE_KEY.get(name, name)] = float(raw.replace(",", ""))
            except ValueError:
                error = f"{name} must be a number"
    doc = None
    for _wh in get_warehouse(platform):  # holds the warehouse for this request
        try:
            doc = service.business_case_doc(platform, what_if=given)
        except UserError as exc:
            error = exc.for_people()
    return _page(request, "business_case.html", who, doc=doc, error=error,
                 chart=case_chart(doc) if doc else None, fields=CASE_FIELDS,
                 keys=_CASE_KEY, values=dict(request.query_params))


# -- roadmap -------------------------------------------------------------------------------


@router.get("/roadmap", response_class=HTMLResponse)
def roadmap_page(
    request: Request, platform: PlatformDep,
    message: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """The roadmap: phases with live gates, quick wins and progress."""
    from helix.exec import service

    who = _signed_in(request, platform)
    if who is None:
        return RedirectResponse("/login", status_code=303)
    for _wh in get_warehouse(platform):  # holds the warehouse for this request
        doc = service.roadmap_doc(platform)
    return _page(request, "roadmap.html", who, doc=doc, chart=progress_chart(doc),
                 can_lead=_leads(who), message=message)


@router.post("/roadmap/checkpoint")
def roadmap_checkpoint_form(request: Request, platform: PlatformDep,
                            csrf: Annotated[str, Form()]) -> Response:
    """Store the gate results now (leaders and admins)."""
    from helix.exec import service

    who = _form_caller(request, platform, csrf, _leads,
                       "only leaders and admins may record roadmap progress")
    if who is None:
        return RedirectResponse("/login", status_code=303)
    for _wh in get_warehouse(platform):  # holds the warehouse for this request
        doc = service.record_checkpoint(platform, actor=who.name)
    c = doc["checkpoint"]
    text = "checkpoint stored: {} of {} gates done".format(c["done"], c["total"])
    return RedirectResponse(f"/roadmap?message={_message(text)}", status_code=303)


@router.post("/roadmap/gates/{key}")
def roadmap_mark_form(
    request: Request, platform: PlatformDep, key: str,
    done: Annotated[str, Form(pattern="^(true|false)$")],
    csrf: Annotated[str, Form()],
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Mark a manual gate as met or not (leaders and admins)."""
    from helix.exec import service

    who = _form_caller(request, platform, csrf, _leads,
                       "only leaders and admins may mark roadmap gates")
    if who is None:
        return RedirectResponse("/login", status_code=303)
    try:
        service.mark_gate(platform, key, done == "true", note=note, actor=who.name)
    except UserError as exc:
        return RedirectResponse(f"/roadmap?message={_message(exc.for_people())}",
                                status_code=303)
    text = f"{key} marked {'met' if done == 'true' else 'not met'}"
    return RedirectResponse(f"/roadmap?message={_message(text)}", status_code=303)


# -- voice of the customer -----------------------------------------------------------------


@router.get("/voice", response_class=HTMLResponse)
def voice_page(
    request: Request, platform: PlatformDep,
    by: Annotated[str, Query(pattern="^(month|quarter)$")] = "quarter",
    segment_by: Annotated[str, Query(pattern="^(segment|tier)$")] = "segment",
    k: Annotated[int, Query(ge=2, le=20)] = 6,
) -> Response:
    """NPS and CSAT over time and by segment, themes, and the closed loop."""
    from helix.exec.service import data_as_of
    from helix.voice.closed_loop import closed_loop
    from helix.voice.nps import voice_scores
    from helix.voice.themes import voice_themes

    who = _signed_in(request, platform)
    if who is None:
        return RedirectResponse("/login", status_code=303)
    error = None
    nps = csat = themes = loop = None
    for wh in get_warehouse(platform):
        try:
            nps = voice_scores(wh, "nps", by=by, segment_by=segment_by)
            csat = voice_scores(wh, "csat", by=by, segment_by=segment_by)
            themes = voice_themes(wh, k=k)
            with platform.store.session() as session:
                loop = closed_loop(wh, session, data_as_of(platform))
        except UserError as exc:
            error = exc.for_people()
    if loop is not None and who.book_owner is not None:
        loop["misses"] = [m for m in loop["misses"]
                          if (m["owner_email"] or "").lower() == who.book_owner]
    return _page(request, "voice.html", who, nps=nps, csat=csat, themes=themes, loop=loop,
                 error=error, by=by, segment_by=segment_by, k=k,
                 nps_chart=nps_chart(nps) if nps else None,
                 theme_chart=theme_chart(themes) if themes else None)
