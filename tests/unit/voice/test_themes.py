"""Theme extraction on a labelled fixture: pricing, onboarding and bugs separate."""

from __future__ import annotations

from collections import Counter

from helix.voice.themes import extract_themes

PRICING = [
    "The price is too high for what we get",
    "Pricing went up again at renewal, too expensive",
    "We cannot justify the price increase to finance",
    "Too expensive compared with other vendors, the price per seat hurts",
    "The new pricing tiers make it more expensive for us",
    "Discount on the price would help us renew",
    "Our budget cannot absorb another price increase",
    "Expensive licence price for a small team",
]
ONBOARDING = [
    "Onboarding was smooth and the setup took one week",
    "The onboarding team helped us with setup and training",
    "Great onboarding sessions, training was clear",
    "Setup and onboarding took longer than promised",
    "We need more onboarding training for new users",
    "The onboarding checklist made setup easy",
    "Training during onboarding was excellent",
    "Onboarding calls helped our admins finish setup",
]
BUGS = [
    "The export crashes with a bug every time",
    "Another bug: the dashboard crashes on load",
    "Bugs in the report export, it crashes",
    "The app crashes and the bug is still not fixed",
    "A bug in sync makes the export fail",
    "Crashes since the last release, please fix the bug",
    "The mobile app crashes, obvious bug",
    "Export bug again, crashes on large files",
]


def test_three_topics_separate_and_are_labelled_by_their_terms() -> None:
    texts = PRICING + ONBOARDING + BUGS
    truth = ["pricing"] * 8 + ["onboarding"] * 8 + ["bugs"] * 8
    model = extract_themes(texts, k=3)
    assert len(model.themes) == 3
    found = {}
    for theme in model.themes:
        labels = Counter(truth[i] for i in theme.members)
        top, count = labels.most_common(1)[0]
        assert count / len(theme.members) >= 0.85, (theme.label, labels)
        found[top] = theme
    assert set(found) == {"pricing", "onboarding", "bugs"}
    assert "price" in found["pricing"].label or "expensive" in found["pricing"].label
    assert "onboarding" in found["onboarding"].label or "setup" in found["onboarding"].label
    assert "bug" in found["bugs"].label or "crashes" in found["bugs"].label
    # the most typical text comes first
    assert truth[found["bugs"].members[0]] == "bugs"


def test_deterministic_and_degenerate_inputs() -> None:
    texts = PRICING + BUGS
    assert extract_themes(texts, k=2).assignment == extract_themes(texts, k=2).assignment
    assert extract_themes([], k=3).themes == []
    assert extract_themes(["only one"], k=3).assignment == [-1]
    assert extract_themes(["", "  "], k=3).themes == []
