"""/api/v1/voice: NPS and CSAT with intervals, themes, closed-loop compliance.

The same documents as `helix voice nps|csat|themes|closed-loop --json` (docs/voice.md).
Aggregates are open to every reader; the closed loop's list of misses follows the
caller's book (a CSM sees the misses of the accounts they own).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from helix.api.deps import PlatformDep, ReadAccess, WarehouseDep

router = APIRouter(prefix="/voice", tags=["voice"])

By = Annotated[Literal["month", "quarter"], Query(description="period of the series")]
SegmentBy = Annotated[Literal["segment", "tier"], Query(description="how to segment")]
Start = Annotated[date | None, Query(alias="from", description="first day (inclusive)")]
End = Annotated[date | None, Query(alias="to", description="last day (exclusive)")]


@router.get("/nps", summary="NPS overall, over time and by segment, with 95% intervals")
def nps_route(wh: WarehouseDep, who: ReadAccess, by: By = "month",
              segment_by: SegmentBy = "segment", start: Start = None,
              end: End = None) -> dict[str, Any]:
    from helix.voice.nps import voice_scores

    return voice_scores(wh, "nps", by=by, segment_by=segment_by, start=start, end=end)


@router.get("/csat", summary="CSAT (share of 4-5) over time and by segment, with intervals")
def csat_route(wh: WarehouseDep, who: ReadAccess, by: By = "month",
               segment_by: SegmentBy = "segment", start: Start = None, end: End = None,
               tickets: Annotated[bool, Query(description="ticket CSAT instead of surveys")]
               = False) -> dict[str, Any]:
    from helix.voice.nps import voice_scores

    return voice_scores(wh, "ticket_csat" if tickets else "csat", by=by,
                        segment_by=segment_by, start=start, end=end)


@router.get("/themes", summary="Themes of comments and tickets, with trend and sentiment")
def themes_route(
    wh: WarehouseDep, who: ReadAccess,
    k: Annotated[int, Query(ge=1, le=30, description="number of themes")] = 6,
    source: Annotated[list[Literal["surveys", "tickets"]] | None, Query()] = None,
    start: Start = None, end: End = None,
) -> dict[str, Any]:
    from helix.voice.themes import voice_themes

    return voice_themes(wh, k=k, sources=tuple(source or ("surveys", "tickets")),
                        start=start, end=end)


@router.get("/closed-loop", summary="Detractor follow-up within the SLA: compliance, misses")
def closed_loop_route(
    platform: PlatformDep, wh: WarehouseDep, who: ReadAccess,
    sla_days: Annotated[float | None, Query(gt=0, le=365)] = None,
    start: Start = None, end: End = None,
) -> dict[str, Any]:
    from helix.exec.service import data_as_of
    from helix.voice.closed_loop import closed_loop

    with platform.store.session() as session:
        doc = closed_loop(wh, session, data_as_of(platform), sla_days=sla_days,
                          start=start, end=end)
    owner = who.book_owner
    if owner is not None:
        for key in ("misses", "open_items"):
            doc[key] = [m for m in doc[key] if (m["owner_email"] or "").lower() == owner]
    return doc
