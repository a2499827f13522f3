"""Runs the registered stages in order, incrementally, recording each run."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pyarrow as pa

from helix.pipeline.registry import Stage, StageContext, registered_stages
from helix.warehouse import Warehouse
from helix.warehouse.connection import STAGE_RUNS_TABLE, utcnow


@dataclass
class StageOutcome:
    name: str
    status: str  # "ran" or "skipped"
    seconds: float
    rows: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "seconds": round(self.seconds, 3),
            "rows": self.rows,
            "notes": self.notes,
        }


@dataclass
class PipelineReport:
    as_of: date
    stages: list[StageOutcome]

    def to_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "stages": [s.to_dict() for s in self.stages]}


def _signature(stage: Stage, versions: dict[str, int], as_of: date) -> str:
    inputs = {name: versions.get(name, 0) for name in stage.inputs}
    if stage.depends_on_as_of:
        inputs["as_of"] = as_of.isoformat()  # type: ignore[assignment]
    return json.dumps(inputs, sort_keys=True)


def _last_runs(wh: Warehouse) -> dict[str, tuple[str, date]]:
    t = wh.table(STAGE_RUNS_TABLE)
    marked = t.mutate(_latest=t.started_at.max().over(group_by=t.stage))
    latest = marked.filter(marked.started_at == marked._latest)
    rows = latest.select("stage", "inputs", "as_of").to_pyarrow().to_pylist()
    return {r["stage"]: (r["inputs"], r["as_of"]) for r in rows}


def stage_is_current(wh: Warehouse, name: str) -> bool:
    """Whether stage ``name`` last ran on the present versions of its inputs (so its
    outputs hold what a run now would write, as of that run's date)."""
    stage = next((s for s in registered_stages() if s.name == name), None)
    if stage is None or not wh.has_table(STAGE_RUNS_TABLE):
        return False
    last = _last_runs(wh).get(name)
    return last is not None and last[0] == _signature(stage, wh.table_versions(), last[1])


def run_pipeline(
    wh: Warehouse,
    *,
    as_of: date,
    full: bool = False,
    only: list[str] | None = None,
    on_stage: Callable[[Stage], Callable[[float, str], None]] | None = None,
    settings: Any = None,
) -> PipelineReport:
    """Run every registered stage (or those named in ``only``) as of ``as_of``.

    A stage is skipped when its inputs' versions and the as-of date equal those
    of its last run; ``full`` forces every stage to rebuild from scratch.
    ``on_stage`` returns a progress callback for a stage (the CLI's progress bar).
    """
    outcomes: list[StageOutcome] = []
    for stage in registered_stages():
        if only and stage.name not in only:
            continue
        versions = wh.table_versions()
        signature = _signature(stage, versions, as_of)
        last = _last_runs(wh).get(stage.name)
        if not full and last is not None and last[0] == signature:
            outcomes.append(StageOutcome(stage.name, "skipped", 0.0, notes=["inputs unchanged"]))
            continue
        progress = on_stage(stage) if on_stage else (lambda f, m: None)
        ctx = StageContext(
            warehouse=wh,
            as_of=as_of,
            full=full or last is None,
            last_as_of=None if (full or last is None) else last[1],
            progress=progress,
            settings=settings,
        )
        started = utcnow()
        t0 = time.perf_counter()
        result = stage.run(ctx)
        seconds = time.perf_counter() - t0
        progress(1.0, "done")
        for table in stage.outputs:
            wh.record_change(table, note=f"stage {stage.name}")
        wh.append(
            STAGE_RUNS_TABLE,
            pa.table(
                {
                    "stage": [stage.name],
                    "as_of": pa.array([as_of], pa.date32()),
                    # the signature is taken before outputs change, so a stage whose
                    # outputs feed a later stage still compares equal next time
                    "inputs": [signature],
                    "started_at": pa.array([started], pa.timestamp("us")),
                    "seconds": [seconds],
                    "rows": [sum(result.rows.values())],
                }
            ),
        )
        outcomes.append(StageOutcome(stage.name, "ran", seconds, result.rows, result.notes))
    return PipelineReport(as_of=as_of, stages=outcomes)
