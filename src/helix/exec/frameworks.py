"""The three scorecards of the executive layer: what is scored, and what a score means.

* **Maturity** (seed 003, "Customer Success Maturity Assessment"): six dimensions,
  each scored 1-10 against five named levels: Initial (1-2), Developing (3-4),
  Defined (5-6), Optimized (7-8), Leading (9-10). The average decides the
  guidance (below 5: foundations; 5 to 7: scale and optimise; above 7: advanced
  capabilities), and the lowest dimension is the priority.
* **Four imperatives** (seed 000, chapter 10): strategic elevation, technology
  infrastructure, commercial capabilities, continuous innovation, each 1-10.
* **Six pillars** (seed 001, chapter 11): strategic foundation, organisational
  architecture, economic optimisation, talent excellence, operational excellence,
  growth acceleration, each 1-10.

For all three, the lowest score is the priority: the seeds' point is that the
weakest element caps the benefit of the strong ones. Scoring is
:func:`evaluate`, a pure function of the scores (no store, no clock).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from helix.errors import UserError

__all__ = [
    "Item",
    "Framework",
    "LEVELS",
    "level_of",
    "MATURITY",
    "IMPERATIVES",
    "PILLARS",
    "FRAMEWORKS",
    "framework",
    "Scorecard",
    "evaluate",
    "guidance_band",
]

LEVELS: tuple[tuple[str, int, int], ...] = (
    ("Initial", 1, 2),
    ("Developing", 3, 4),
    ("Defined", 5, 6),
    ("Optimized", 7, 8),
    ("Leading", 9, 10),
)
"""The five maturity levels of seed 003 with the scores each covers."""


def level_of(score: float) -> str:
    """The maturity level name of a 1-10 score; a fractional score (an average) takes the
    level of its whole part, so 4.5 is still Developing (and below 5: foundations)."""
    whole = int(score)
    for name, low, high in LEVELS:
        if low <= whole <= high:
            return name
    raise UserError(f"a score must be between 1 and 10, not {score}")


@dataclass(frozen=True)
class Item:
    """One scored element: its key, name, the question asked and what each level looks like."""

    key: str
    name: str
    question: str
    levels: tuple[str, ...] = ()  # descriptor per maturity level (maturity only)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (the questionnaire)."""
        out: dict[str, Any] = {"key": self.key, "name": self.name, "question": self.question}
        if self.levels:
            out["levels"] = [
                {"level": name, "scores": f"{low}-{high}", "looks_like": text}
                for (name, low, high), text in zip(LEVELS, self.levels, strict=True)
            ]
        return out


@dataclass(frozen=True)
class Framework:
    """A scorecard: its kind, title, items and where it comes from."""

    kind: str
    title: str
    items: tuple[Item, ...]
    source: str
    priority_rule: str

    def item_keys(self) -> list[str]:
        """The item keys in framework order."""
        return [i.key for i in self.items]

    def item(self, key: str) -> Item:
        """The item with ``key``."""
        for i in self.items:
            if i.key == key:
                return i
        raise UserError(
            f"{self.kind} has no item {key!r}", hint="use one of: " + ", ".join(self.item_keys())
        )

    def to_dict(self) -> dict[str, Any]:
        """The questionnaire: every item with its question (and level descriptors)."""
        return {
            "kind": self.kind,
            "title": self.title,
            "source": self.source,
            "scale": "1-10",
            "priority_rule": self.priority_rule,
            "levels": [{"level": n, "scores": f"{lo}-{hi}"} for n, lo, hi in LEVELS],
            "items": [i.to_dict() for i in self.items],
        }


MATURITY = Framework(
    "maturity",
    "Customer Success maturity",
    (
        Item("strategy", "Strategy and vision",
             "How does the company treat Customer Success strategically?",
             ("Reactive support", "CS acknowledged", "Strategic function", "Executive priority",
              "Board-level asset")),
        Item("organisation", "Organisational structure",
             "How is the CS team organised and where does it report?",
             ("Ad hoc", "Defined team", "Specialised roles", "CCO/CRO reporting",
              "Cross-functional integration")),
        Item("technology", "Technology and data",
             "What tools and data does CS run on?",
             ("Manual processes", "Basic CRM", "CS platform", "Integrated ecosystem",
              "AI-powered intelligence")),
        Item("processes", "Processes and playbooks",
             "How consistent and repeatable is the way CS works?",
             ("Inconsistent", "Documented", "Standardised", "Optimised",
              "Continuously improving")),
        Item("talent", "Talent and capabilities",
             "What skills and accountability do the CSMs have?",
             ("Generalists", "Role clarity", "Specialised skills", "Revenue-accountable",
              "Strategic consultants")),
        Item("measurement", "Measurement and analytics",
             "What does CS measure and how far ahead can it see?",
             ("Activity metrics", "Health scores", "Predictive analytics", "Business outcomes",
              "Real-time intelligence")),
    ),
    "seed 003, 'Customer Success Maturity Assessment'",
    "the lowest dimension is the priority; the average sets the guidance",
)  # fmt: skip

IMPERATIVES = Framework(
    "imperatives",
    "The four strategic imperatives",
    (
        Item("elevation", "Strategic elevation",
             "Does CS have board-level visibility and C-suite authority (CCO, CS metrics in "
             "board reporting, a multi-year budget)?"),
        Item("technology", "Technology infrastructure",
             "Can CS scale profitably with personalised engagement (capacity per CSM, "
             "prediction accuracy, automation)?"),
        Item("commercial", "Commercial capabilities",
             "Does CS capture expansion while strengthening relationships (share of growth "
             "from existing customers, a consultative approach)?"),
        Item("innovation", "Continuous innovation",
             "Is CS improving faster than customer expectations (voice of the customer, "
             "experiments, yearly gains)?"),
    ),
    "seed 000, chapter 10, 'The Four Imperatives in One Table'",
    "the lowest imperative is the priority: weakness in one constrains the rest",
)  # fmt: skip

PILLARS = Framework(
    "pillars",
    "The six pillars of integrated excellence",
    (
        Item("strategic_foundation", "Strategic foundation",
             "C-suite sponsorship, board visibility, 5-10% of ARR invested in CS?"),
        Item("organisational_architecture", "Organisational architecture",
             "Structure and reporting aligned to the company's stage, clear roles?"),
        Item("economic_optimisation", "Economic optimisation",
             "Retention, expansion and efficiency managed as a measured business case?"),
        Item("talent_excellence", "Talent excellence",
             "Realistic ratios, onboarding, career paths, burnout kept in check?"),
        Item("operational_excellence", "Operational excellence",
             "Process, technology and measurement maturity; capacity per CSM?"),
        Item("growth_acceleration", "Growth acceleration",
             "Expansion, advocacy and innovation engines (over 30% of growth from expansion)?"),
    ),
    "seed 001, chapter 11, 'Six Pillars of Integrated Excellence'",
    "the lowest pillar is the priority: raise the floor before the ceiling",
)  # fmt: skip

FRAMEWORKS: dict[str, Framework] = {f.kind: f for f in (MATURITY, IMPERATIVES, PILLARS)}


def framework(kind: str) -> Framework:
    """The framework named ``kind`` (maturity, imperatives or pillars)."""
    try:
        return FRAMEWORKS[kind]
    except KeyError:
        raise UserError(
            f"unknown scorecard {kind!r}", hint="use one of: " + ", ".join(FRAMEWORKS)
        ) from None


GUIDANCE: dict[str, tuple[str, str]] = {
    "foundation": (
        "Build the foundations first",
        "The average is below 5: the basics are not in place yet. Put governance and a "
        "measurement baseline in place, segment the customers, deploy a simple health score "
        "and the core playbooks (onboarding, adoption, renewal), and deliver a few quick wins "
        "inside 90 days before investing in anything advanced.",
    ),
    "scale": (
        "Scale and optimise",
        "The average is between 5 and 7: the foundations exist. Roll them out to every team "
        "and segment, make the health score predictive and prove it with a backtest, "
        "automate the routine work, connect the remaining data sources, and aim for a "
        "measurable NRR gain of 5 to 10 points.",
    ),
    "advanced": (
        "Pursue advanced capabilities and innovation",
        "The average is above 7: the function is mature. Invest in prediction and AI "
        "assistance, systematic expansion and advocacy programmes, and an experimentation "
        "culture that keeps improving the results year after year.",
    ),
}
"""Guidance by average (seed 003: below 5 / 5 to 7 / above 7), in Helix's words."""


def guidance_band(average: float) -> str:
    """``foundation`` (< 5), ``scale`` (5 to 7 inclusive) or ``advanced`` (> 7)."""
    if average < 5:
        return "foundation"
    if average <= 7:
        return "scale"
    return "advanced"


@dataclass(frozen=True)
class Scorecard:
    """A scored framework: the scores, their average, levels, priority and guidance."""

    kind: str
    scores: dict[str, int]
    average: float
    priority: list[str]
    guidance: str | None  # maturity only: the seeds give guidance by average for it alone
    notes: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        """JSON form: each item with its score and level, the average, priority and guidance."""
        fw = framework(self.kind)
        items = []
        for item in fw.items:
            score = self.scores[item.key]
            row: dict[str, Any] = {
                "key": item.key,
                "name": item.name,
                "score": score,
                "level": level_of(score),
                "priority": item.key in self.priority,
            }
            if item.levels:
                row["looks_like"] = item.levels[[n for n, _, _ in LEVELS].index(level_of(score))]
            if item.key in self.notes:
                row["note"] = self.notes[item.key]
            items.append(row)
        return {
            "kind": self.kind,
            "title": fw.title,
            "items": items,
            "average": self.average,
            "average_level": level_of(self.average),
            "priority": self.priority,
            "priority_names": [fw.item(k).name for k in self.priority],
            "priority_rule": fw.priority_rule,
            "guidance": (
                {
                    "band": self.guidance,
                    "title": GUIDANCE[self.guidance][0],
                    "text": GUIDANCE[self.guidance][1],
                }
                if self.guidance
                else None
            ),
            "source": fw.source,
        }


def _score(key: str, value: Any) -> int:
    if isinstance(value, bool):
        raise UserError(f"the score of {key} must be a whole number from 1 to 10, not {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UserError(
            f"the score of {key} must be a whole number from 1 to 10, not {value!r}"
        ) from None
    if number != int(number) or not 1 <= number <= 10:
        raise UserError(f"the score of {key} must be a whole number from 1 to 10, not {value!r}")
    return int(number)


def evaluate(
    kind: str, scores: Mapping[str, Any], notes: Mapping[str, str] | None = None
) -> Scorecard:
    """Score ``kind`` from ``{item key: 1..10}``: every item must be scored, nothing else.

    The average is rounded to two decimals; every item holding the lowest score is
    in ``priority`` (in framework order), so ties are all flagged.
    """
    fw = framework(kind)
    unknown = sorted(set(scores) - set(fw.item_keys()))
    if unknown:
        raise UserError(
            f"{kind} has no item {', '.join(unknown)}", hint="use: " + ", ".join(fw.item_keys())
        )
    missing = [k for k in fw.item_keys() if k not in scores]
    if missing:
        raise UserError(f"{kind} needs a score for {', '.join(missing)}")
    clean = {k: _score(k, scores[k]) for k in fw.item_keys()}
    average = round(sum(clean.values()) / len(clean), 2)
    low = min(clean.values())
    priority = [k for k in fw.item_keys() if clean[k] == low]
    kept = {
        k: str(v).strip()[:2000] for k, v in (notes or {}).items() if k in clean and str(v).strip()
    }
    band = guidance_band(average) if kind == "maturity" else None
    return Scorecard(kind, clean, average, priority, band, kept)
