"""Stage registry: each capability registers the stage that builds its derived tables.

Stages run in ``order`` (checks 10, metrics 20, signals 30, scores and
predictions 40, playbooks 50). A stage declares the warehouse tables it reads;
the runner skips it when none of them changed and the as-of date is the same
as on its last run, unless a full rebuild is asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from helix.warehouse import Warehouse


@dataclass
class StageContext:
    """What a stage gets: the warehouse, the as-of date, and how to report progress."""

    warehouse: Warehouse
    as_of: date
    full: bool
    last_as_of: date | None  # as-of of this stage's previous successful run, if any
    progress: Callable[[float, str], None] = lambda fraction, message: None
    settings: Any = None  # helix.config.Settings, when run from the CLI or API


@dataclass
class StageResult:
    """What a stage did: rows written per output table and any notes for the summary."""

    rows: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Stage:
    """A named step of `helix run`."""

    name: str
    order: int
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    run: Callable[[StageContext], StageResult]
    description: str = ""
    depends_on_as_of: bool = True  # re-run when the as-of date changes


_STAGES: dict[str, Stage] = {}


def register(stage: Stage) -> Stage:
    """Add ``stage`` to the pipeline (replacing one with the same name)."""
    _STAGES[stage.name] = stage
    return stage


def registered_stages() -> list[Stage]:
    """All stages in run order. Importing :mod:`helix.pipeline.stages` registers the built-ins."""
    import helix.pipeline.stages  # noqa: F401  (registers built-in stages)

    return sorted(_STAGES.values(), key=lambda s: (s.order, s.name))
