"""The demo company's fixed catalogue: segments, plans, products, prices, event types, names.

Everything here is constant data; randomness lives in the modules that draw from it.
Indices into these tuples are what the simulation arrays carry (segment 0 is SMB,
tier 0 is Starter, event type 0 is ``login`` ...).
"""

from __future__ import annotations

import numpy as np

VENDOR_DOMAIN = "helix-demo.io"
CURRENCY = "USD"

# --------------------------------------------------------------------------- segments
SEGMENTS = ("SMB", "Mid-Market", "Enterprise")
"""Segment labels written to ``accounts.segment`` (index = segment code)."""

SEGMENT_KEYS = ("smb", "mid_market", "enterprise")
SMB, MM, ENT = 0, 1, 2
SEGMENT_SHARE = np.array([0.72, 0.21, 0.07])
"""Share of new logos by segment at signup."""

ARR_MEDIAN = np.array([6_000.0, 45_000.0, 220_000.0])
ARR_SIGMA = np.array([0.7, 0.4, 0.6])
ARR_BOUNDS = ((1_500.0, 24_000.0), (26_000.0, 98_000.0), (105_000.0, 2_000_000.0))
"""The deal size drawn at signup (ARR, USD): log-normal, clipped inside the segment band."""

EMPLOYEES_MEDIAN = np.array([60.0, 600.0, 6_000.0])
EMPLOYEES_SIGMA = np.array([0.8, 0.6, 1.0])
EMPLOYEES_BOUNDS = ((5, 500), (150, 5_000), (1_500, 200_000))

BOOK_TARGET = np.array([700.0, 100.0, 20.0])
"""Active accounts per CSM by touch model: tech-touch pool, low touch, high touch."""

# --------------------------------------------------------------------------- plans and products
CORE_PRODUCT = "Helix Insight"
TIERS = ("Starter", "Growth", "Enterprise")
STARTER, GROWTH, ENTERPRISE = 0, 1, 2
SEAT_PRICE = np.array([25.0, 40.0, 70.0])
"""List price per seat per month by tier."""
PLATFORM_FEE = np.array([0.0, 150.0, 1_200.0])
"""Flat monthly platform fee by tier."""
TIER_MIX = np.array(
    [
        [0.65, 0.35, 0.00],  # SMB
        [0.05, 0.80, 0.15],  # mid-market
        [0.00, 0.15, 0.85],  # enterprise
    ]
)
TIER_MAX_BREADTH = np.array([7, 9, 10])
"""How many event types (in adoption order) each tier unlocks."""

ADDONS = ("Automation Studio", "Advanced Security", "Data Connectors", "Premium Support")
"""Add-on products (cross-sell); index = bit in the add-on mask."""
ADDON_PER_SEAT = np.array([10.0, 0.0, 0.0, 0.0])
ADDON_FLAT = np.array(
    [
        [0.0, 0.0, 0.0],  # Automation Studio: per seat only
        [0.0, 600.0, 1_200.0],  # Advanced Security needs Growth or Enterprise
        [250.0, 250.0, 500.0],  # Data Connectors
        [150.0, 400.0, 1_500.0],  # Premium Support
    ]
)
"""Flat monthly add-on price by tier (0 with no per-seat price means: not sold on that tier)."""
ADDON_WEIGHT = np.array([0.35, 0.2, 0.3, 0.15])

USAGE_PRODUCT = "API Credits"
API_BLOCK_CALLS = 100_000.0
API_BLOCK_PRICE = 100.0
"""The usage-priced product: blocks of API calls per month."""

TERM_NAMES = {1: "monthly", 12: "annual"}

# --------------------------------------------------------------------------- usage
EVENT_TYPES = (
    "login",
    "dashboard_viewed",
    "invite_sent",
    "report_created",
    "export",
    "comment_added",
    "alert_configured",
    "integration_sync",
    "api_call",
    "workflow_run",
)
"""Event types in adoption order: an account using ``b`` types uses the first ``b``."""
EVENT_WEIGHT = np.array([10.0, 30.0, 3.0, 12.0, 6.0, 8.0, 3.0, 9.0, 16.0, 7.0])
"""Relative frequency of the non-guaranteed events by type."""
VALUE_EVENT = 3
"""Index of ``report_created``: its first occurrence is the first value moment."""
SETUP_BREADTH = 3
"""Breadth before the first value moment: login, dashboard_viewed, invite_sent."""

HOUR_WEIGHT = np.array(
    [0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.4, 1.0, 2.5, 4.0, 4.5, 4.5, 3.5]
    + [4.0, 4.5, 4.3, 3.8, 2.8, 1.6, 1.0, 0.8, 0.6, 0.4, 0.3]
)
"""Local hour-of-day profile of product use."""

# --------------------------------------------------------------------------- firmographics
INDUSTRIES = (
    "Software",
    "Financial Services",
    "Healthcare",
    "Retail",
    "Manufacturing",
    "Education",
    "Media",
    "Logistics",
    "Professional Services",
    "Real Estate",
    "Nonprofit",
    "Telecommunications",
    "Energy",
    "Hospitality",
)
INDUSTRY_WEIGHT = np.array([18, 12, 10, 9, 9, 6, 5, 7, 10, 4, 2, 3, 2, 3], dtype=float)
REGIONS = ("North America", "EMEA", "APAC", "LATAM")
REGION_WEIGHT = np.array([0.5, 0.3, 0.12, 0.08])
REGION_UTC_OFFSET = np.array([-6, 1, 8, -4])
"""Hours to add to UTC to get a typical local time in the region."""
CHANNELS = ("inbound", "outbound", "partner", "self_serve")
CHANNEL_MIX = np.array(
    [
        [0.35, 0.10, 0.10, 0.45],
        [0.40, 0.35, 0.20, 0.05],
        [0.25, 0.55, 0.20, 0.00],
    ]
)

NAME_ROOT_A = (
    "Blue", "North", "Iron", "Silver", "Bright", "Red", "Green", "Golden", "Swift", "Clear",
    "Stone", "Summit", "Cedar", "Maple", "Oak", "Pine", "River", "Harbor", "Lake", "Sun",
    "Moon", "Star", "Cloud", "Rock", "Sky", "Ocean", "Prairie", "Aspen", "Birch", "Willow",
    "Falcon", "Eagle", "Hawk", "Fox", "Wolf", "Bear", "Lion", "Otter", "Raven", "Heron",
    "Quantum", "Vector", "Pixel", "Nova", "Apex", "Zenith", "Vertex", "Atlas", "Orion", "Polar",
    "Coastal", "Alpine", "Urban", "Metro", "Grand", "Noble", "Prime", "True", "Bold", "Keen",
    "Crimson", "Amber", "Cobalt", "Indigo", "Scarlet", "Ivory", "Jade", "Onyx", "Copper", "Bronze",
    "Westward", "Eastern", "Southern", "Highland", "Lowland", "Valley", "Canyon", "Mesa", "Delta",
    "Beacon", "Anchor", "Compass", "Lantern", "Bridge", "Tower", "Gate", "Forge", "Mill", "Field",
    "Sterling", "Regal", "Crown", "Shield", "Arrow", "Spark", "Flint", "Ember", "Frost", "Tide",
)  # fmt: skip
NAME_ROOT_B = (
    "field", "stone", "wave", "point", "line", "works", "path", "bridge", "light", "gate",
    "peak", "crest", "wood", "brook", "ridge", "haven", "port", "view", "well", "spring",
    "stack", "grid", "loop", "core", "base", "hub", "link", "mark", "scale", "shift",
    "forge", "craft", "mind", "sight", "stream", "flow", "beam", "bolt", "pulse", "wing",
    "leaf", "root", "seed", "vale", "moor", "shore", "bay", "cove", "isle", "land",
)  # fmt: skip
NAME_KIND = (
    "Labs", "Systems", "Health", "Logistics", "Capital", "Retail", "Foods", "Energy", "Media",
    "Analytics", "Partners", "Group", "Holdings", "Technologies", "Solutions", "Software",
    "Insurance", "Bank", "Clinics", "Academy", "Motors", "Apparel", "Studios", "Networks",
    "Robotics", "Pharma", "Realty", "Travel", "Supply", "Consulting", "Manufacturing", "Freight",
    "Security", "Payments", "Learning", "Outdoors", "Home", "Kitchens", "Dental", "Legal",
)  # fmt: skip
DIVISIONS = ("Europe", "Asia Pacific", "Labs", "Digital", "Services", "Americas", "Ventures")

FIRST_NAMES = (
    "Jane", "John", "Maria", "Wei", "Aisha", "Carlos", "Priya", "Liam", "Olivia", "Noah",
    "Emma", "Lucas", "Sofia", "Mateo", "Yuki", "Hiro", "Fatima", "Omar", "Chloe", "Ethan",
    "Amara", "Kwame", "Ingrid", "Lars", "Elena", "Ivan", "Mei", "Jun", "Ana", "Diego",
    "Grace", "Samuel", "Zara", "Ali", "Nora", "Felix", "Hannah", "David", "Leah", "Marco",
    "Isabel", "Tom", "Sara", "Ravi", "Anika", "Ben", "Julia", "Kofi", "Nina", "Pablo",
    "Rosa", "Theo", "Vera", "Aaron", "Bianca", "Caleb", "Dana", "Elias", "Fiona", "Gabriel",
    "Helen", "Isaac", "Jasmine", "Kai", "Laura", "Miles", "Naomi", "Oscar", "Paula", "Quinn",
    "Rahul", "Selin", "Tariq", "Uma", "Victor", "Wendy", "Ximena", "Yara", "Zoe", "Adrian",
    "Beatriz", "Chen", "Daniela", "Emil", "Farah", "Gustavo", "Hana", "Ibrahim", "Jonas", "Keiko",
    "Leon", "Mina", "Nikolai", "Olga", "Pedro", "Rania", "Stefan", "Tanya", "Usman", "Valeria",
    "Aditi", "Bruno", "Camila", "Dmitri", "Esther", "Finn", "Gloria", "Hugo", "Irene", "Jorge",
    "Kaveh", "Lina", "Mohammed", "Nadia", "Owen", "Petra", "Rafael", "Sana", "Tobias", "Ursula",
    "Arjun", "Bea", "Cyrus", "Dilnoza", "Eve", "Femi", "Greta", "Henrik", "Ines", "Jack",
    "Kamala", "Lorenzo", "Malik", "Nils", "Ola", "Parisa", "Ruth", "Soren", "Thandiwe", "Ugo",
)  # fmt: skip
LAST_NAMES = (
    "Doe", "Smith", "Garcia", "Chen", "Khan", "Silva", "Patel", "Murphy", "Rossi", "Kim",
    "Nguyen", "Müller", "Dubois", "Kowalski", "Tanaka", "Sato", "Okafor", "Mensah", "Haddad",
    "Ibrahim", "Johansson", "Larsen", "Novak", "Petrov", "Wang", "Li", "Santos", "Lopez",
    "Martin", "Brown", "Wilson", "Taylor", "Anderson", "Thomas", "Moore", "Jackson", "White",
    "Harris", "Clark", "Lewis", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Green",
    "Baker", "Adams", "Nelson", "Hill", "Campbell", "Mitchell", "Roberts", "Carter", "Phillips",
    "Evans", "Turner", "Torres", "Parker", "Collins", "Edwards", "Stewart", "Flores", "Morris",
    "Reyes", "Cruz", "Ortiz", "Gomez", "Diaz", "Herrera", "Medina", "Castro", "Vargas", "Ramos",
    "Singh", "Sharma", "Gupta", "Rao", "Iyer", "Das", "Bose", "Yamamoto", "Suzuki", "Ito",
    "Park", "Choi", "Jung", "Zhang", "Liu", "Huang", "Zhao", "Wu", "Sun", "Ma", "Hoffmann",
    "Schmidt", "Weber", "Becker", "Fischer", "Bernard", "Moreau", "Laurent", "Leroy", "Bianchi",
    "Romano", "Costa", "Ferreira", "Almeida", "Nowak", "Horvat", "Popescu", "Ivanova", "Sokolov",
    "Andersen", "Nielsen", "Berg", "Lund", "Virtanen", "Korhonen", "Oyelaran", "Abebe", "Mwangi",
    "Osei", "Nkosi", "Diallo", "Toure", "Farouk", "Rahman", "Aziz", "Karimi", "Yilmaz", "Demir",
    "O'Brien", "Byrne", "Walsh", "Kelly", "Quinn", "Fraser", "Reid", "Grant", "Hughes", "Price",
)  # fmt: skip

CONTACT_ROLES = ("champion", "decision_maker", "executive_sponsor", "user")
CHAMPION, DECISION_MAKER, EXEC_SPONSOR, USER = 0, 1, 2, 3
ROLE_TITLES = (
    (
        "Head of Operations", "Analytics Manager", "Director of Revenue Operations",
        "Business Intelligence Lead", "Customer Operations Manager", "Head of Data",
    ),
    ("VP Operations", "Director of IT", "VP Finance", "Head of Procurement", "VP Sales"),
    (
        "Chief Operating Officer", "Chief Revenue Officer", "Chief Financial Officer", "CEO",
        "SVP Strategy",
    ),
    (
        "Analyst", "Operations Specialist", "Account Manager", "Data Analyst", "Team Lead",
        "Coordinator",
    ),
)  # fmt: skip
ROLE_ENGAGED = np.array([0.95, 0.45, 0.35, 0.22])
"""Probability that a contact of this role is engaged (shows up in meetings and surveys)."""


def slug(text: str) -> str:
    """Lower-case ASCII slug of ``text`` for e-mail addresses and domains."""
    table = str.maketrans({"ü": "u", "é": "e", "ö": "o", "'": "", " ": ""})
    return "".join(ch for ch in text.lower().translate(table) if ch.isalnum())


FIRST_SLUGS = tuple(slug(n) for n in FIRST_NAMES)
LAST_SLUGS = tuple(slug(n) for n in LAST_NAMES)
