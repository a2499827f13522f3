"""`helix run`: the ordered, incremental stages that turn imported facts into derived tables."""

from helix.pipeline.registry import Stage, StageContext, StageResult, register, registered_stages
from helix.pipeline.runner import PipelineReport, run_pipeline

__all__ = [
    "Stage",
    "StageContext",
    "StageResult",
    "register",
    "registered_stages",
    "run_pipeline",
    "PipelineReport",
]
