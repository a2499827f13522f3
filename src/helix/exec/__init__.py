"""The executive layer: maturity and the two strategic scorecards, benchmarks with gaps
in dollars, the business case, the transformation roadmap (seeds 000, 001 and 003).

Modules: :mod:`~helix.exec.frameworks` (what is scored), :mod:`~helix.exec.records`
(history in the app store), :mod:`~helix.exec.facts` and :mod:`~helix.exec.evidence`
(what the data proposes), :mod:`~helix.exec.benchmarking`,
:mod:`~helix.exec.business_case`, :mod:`~helix.exec.roadmap`, and
:mod:`~helix.exec.service` (the use cases the CLI, API and pages call).
"""

from helix.exec.business_case import BusinessCase, CaseInputs, business_case
from helix.exec.frameworks import FRAMEWORKS, IMPERATIVES, MATURITY, PILLARS, Scorecard, evaluate

__all__ = [
    "FRAMEWORKS",
    "MATURITY",
    "IMPERATIVES",
    "PILLARS",
    "Scorecard",
    "evaluate",
    "CaseInputs",
    "BusinessCase",
    "business_case",
]
