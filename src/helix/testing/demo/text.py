"""Free text for tickets and survey comments: templated sentences combined at random.

Tone codes: 0 angry / unhappy, 1 neutral, 2 happy. Every function draws its choices
from the generator it is given, so the text is as deterministic as the numbers.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import numpy as np

ANGRY, NEUTRAL, HAPPY = 0, 1, 2

FEATURES = (
    "scheduled reports", "the dashboard builder", "Salesforce sync", "alerts", "CSV exports",
    "the API", "workflow automation", "user management", "the mobile app", "data connectors",
    "SSO", "custom fields", "the report library", "sharing links", "audit logs",
)  # fmt: skip
TOOLS = ("Salesforce", "HubSpot", "Snowflake", "Slack", "Zendesk", "NetSuite", "Jira", "BigQuery")

TOPICS = (
    "login", "reporting", "integration", "billing", "export",
    "permissions", "performance", "feature_request", "how_to", "data_accuracy",
)  # fmt: skip
TOPIC_BY_TONE = np.array(
    [
        [0.14, 0.10, 0.14, 0.10, 0.06, 0.06, 0.18, 0.02, 0.02, 0.18],  # angry
        [0.10, 0.14, 0.14, 0.07, 0.09, 0.10, 0.08, 0.08, 0.14, 0.06],  # neutral
        [0.04, 0.10, 0.08, 0.04, 0.06, 0.08, 0.02, 0.28, 0.28, 0.02],  # happy
    ]
)


def groups(text: str) -> tuple[tuple[str, ...], ...]:
    """Sentence groups from text: one sentence per line, a blank line between groups.

    A line holding only ``-`` is the empty sentence (e.g. "no opening line").
    """
    out = []
    for block in text.strip("\n").split("\n\n"):
        out.append(tuple("" if line == "-" else line for line in block.splitlines()))
    return tuple(out)


SUBJECTS = groups(
    """
Cannot log in with SSO
Users locked out after password reset
SAML error {code} on login
Login loop on Chrome

Scheduled report did not send
Dashboard widgets show no data
Report totals look wrong
Report builder keeps timing out

{tool} sync failing
{tool} integration stopped updating
Webhook deliveries delayed
API returns 429 errors

Question about our latest invoice
Charged for inactive seats
Need to update payment method
Invoice does not match our contract

CSV export missing columns
Export times out for large datasets
Excel export garbles characters

Need to change user roles
Viewer can edit dashboards
Cannot remove a former employee
Bulk invite not working

App is very slow today
Timeouts when loading the workspace
Dashboards take minutes to load
Intermittent 502 errors

Request: {feature} improvements
Feature idea for {feature}
Would love dark mode
Request: more granular permissions

How do I share a dashboard externally?
How to set up alerts
Best way to organise reports?
How do I connect {tool}?

Numbers differ from {tool}
Duplicate records after import
Metrics changed overnight
Data missing for last week
"""
)

PROBLEMS = groups(
    """
Since this morning {n} of our users cannot get past the SSO screen (error {code}).
After the password reset, people are stuck in a login loop.
Our IdP shows a successful assertion but the app rejects it.

The weekly report to our leadership did not go out on Monday.
Several widgets on the main dashboard show 'no data' although the source has data.
The totals in the revenue report do not add up to the rows underneath.

The {tool} connector has not synced since {day}; the last run shows error {code}.
Records created in {tool} are not showing up anymore.
Our nightly job hits rate limits on the API after a few thousand calls.

Our invoice lists {n} seats but we only have {m} active users.
The amount on the invoice is higher than what we agreed in the contract.
We need to switch the card on file before the next charge.

Exports above {n} thousand rows time out.
The CSV export drops the custom fields we added.
Accented characters come out garbled when we open the export in Excel.

Someone with a viewer role was able to edit a shared dashboard.
We cannot deactivate a user who left the company.
The bulk invite accepted the file but nobody received an invitation.

Pages take {n} seconds or more to load for everyone on the team.
We get intermittent 502 errors when opening the workspace.
The app has been sluggish all week, especially in the afternoon.

It would help a lot if {feature} supported filters per team.
Our analysts keep asking for {feature} with more options.
Could {feature} be configurable per workspace?

We want to share a dashboard with a partner who has no account.
What is the recommended way to set alerts on a metric?
Is there a guide for connecting {tool}?

The numbers in our dashboard differ from {tool} by about {n}%.
After the last import we see duplicate customers.
Our key metric changed overnight without any change on our side.
"""
)

OPENERS = groups(
    """
This is the third time this month we are reporting this.
We are really frustrated.
I need someone to look at this today.
Honestly, this is getting ridiculous.
-

Hi team,
Hello,
Hi support,
-
Good morning,

Hi team, hope you are well!
Hello and thanks for the great product!
Hi there,
Hey folks,
"""
)

IMPACTS = groups(
    """
Our leadership is asking why we pay for a tool that does not work.
My team has lost a full day because of this.
If this is not fixed this week we will have to look at alternatives.
This is blocking our month-end close.
We were promised this would be solved last time.

It affects a few people on the team.
Not urgent, but we would like to understand it.
Steps to reproduce are below.
Let me know if you need more details.

No rush at all.
Everything else works great.
The team loves the product otherwise.
Thanks for the quick help last time!
"""
)

CLOSERS = groups(
    """
Please escalate.
Waiting for an urgent reply.
Call me as soon as possible.
Unacceptable.

Thanks.
Thanks in advance.
Regards.
Best.

Thanks so much!
Cheers!
Keep up the good work!
Many thanks!
"""
)

NPS_COMMENTS = groups(
    """
Too expensive for how little we use it.
Support takes days to answer.
Reports break every other week.
Onboarding was painful and we never got the value promised.
Since our main contact left nobody from your side has reached out.
The product feels slow and clunky.
Hard to get the team to adopt it.
We are evaluating other tools.
Data does not match our other systems.

Solid tool, a few rough edges.
Good, but {feature} needs work.
Does the job. Pricing could be simpler.
Fine for our needs.
Useful, though the learning curve is steep.

Great product, {feature} saves us hours every week.
Our CSM is fantastic.
Best tool we have adopted this year.
The team uses it every day, love {feature}.
Easy to use and support is quick.
Changed how we run our weekly reviews.
"""
)

CSAT_COMMENTS = groups(
    """
The review did not address our concerns.
Felt like a sales pitch.
We still have no answer on the open issues.

Useful session.
OK, some good points.
Helpful overview of our usage.

Excellent review, clear next steps.
Great insights into our adoption.
Loved the benchmark comparison.
"""
)

ONBOARDING_COMMENTS = groups(
    """
Setup took far longer than promised.
We still have not connected our data.
Training was too generic for our use case.

Onboarding was fine.
Some steps were confusing but we got there.
Good, documentation could be better.

Smooth onboarding, we were live in days.
Great kickoff and clear plan.
The onboarding team was excellent.
"""
)


_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")


def pick(r: random.Random, options: tuple[str, ...]) -> str:
    """One of ``options``, uniformly."""
    return options[int(r.random() * len(options))]


_SLOTS: dict[str, Callable[[random.Random], object]] = {
    "feature": lambda r: pick(r, FEATURES),
    "tool": lambda r: pick(r, TOOLS),
    "code": lambda r: f"E{1000 + int(r.random() * 9000)}",
    "n": lambda r: 3 + int(r.random() * 37),
    "m": lambda r: 2 + int(r.random() * 28),
    "pct": lambda r: 5 + int(r.random() * 40),
    "day": lambda r: pick(r, _DAYS),
}


def fill(template: str, r: random.Random, contact: str = "the team") -> str:
    """Fill a template's slots ({feature}, {tool}, {code}, {n}, {m}, {pct}, {day}, {contact})."""
    if "{" not in template:
        return template
    values = {slot: make(r) for slot, make in _SLOTS.items() if "{" + slot + "}" in template}
    return template.format(contact=contact, **values)


def tickets(
    rng: np.random.Generator, r: random.Random, tone: np.ndarray
) -> tuple[list[str], list[str], np.ndarray]:
    """Subject, body and topic code of tickets with the given tones."""
    cum = np.cumsum(TOPIC_BY_TONE, axis=1)[tone]
    topic = (rng.random(tone.size)[:, None] > cum).sum(axis=1).clip(0, len(TOPICS) - 1)
    subjects: list[str] = []
    bodies: list[str] = []
    for t, k in zip(tone.tolist(), topic.tolist(), strict=True):
        subjects.append(fill(pick(r, SUBJECTS[k]), r))
        parts = [
            pick(r, OPENERS[t]),
            fill(pick(r, PROBLEMS[k]), r),
            pick(r, IMPACTS[t]),
            pick(r, CLOSERS[t]),
        ]
        if r.random() < 0.35:
            parts.insert(2, fill(pick(r, PROBLEMS[k]), r))
        bodies.append(" ".join(p for p in parts if p))
    return subjects, bodies, topic


def nps_comments(r: random.Random, scores: np.ndarray) -> list[str | None]:
    """Comments on NPS answers: detractors comment most, passives least."""
    out: list[str | None] = []
    for score in scores.tolist():
        band = 0 if score <= 6 else 1 if score <= 8 else 2
        says = r.random() < (0.7, 0.35, 0.5)[band]
        out.append(fill(pick(r, NPS_COMMENTS[band]), r) if says else None)
    return out


def five_point_comments(r: random.Random, scores: np.ndarray, survey: str) -> list[str | None]:
    """Comments on 1-5 answers (``csat`` after a business review, or ``onboarding``)."""
    table = CSAT_COMMENTS if survey == "csat" else ONBOARDING_COMMENTS
    out: list[str | None] = []
    for score in scores.tolist():
        band = 0 if score <= 2 else 1 if score <= 3 else 2
        out.append(fill(pick(r, table[band]), r) if r.random() < 0.45 else None)
    return out
