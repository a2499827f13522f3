"""Customer 360: one account seen whole, and what people add to it.

* :mod:`.access` — find an account the caller may see (a CSM: their own book only);
  every other account is "not found", so its existence does not leak.
* :mod:`.profile` — the header (ARR, plan, owner, renewal, health and churn risk with
  their drivers), health history, weekly usage, subscriptions and MRR movements,
  contacts and the stakeholder map.
* :mod:`.timeline` — everything that happened to the account, merged and sorted newest
  first, with cursor pagination.
* :mod:`.notes` and :mod:`.plans` — notes and the success plan (goals, milestones),
  written with an optimistic-concurrency check (:class:`StaleWrite`) and audited.
"""

from __future__ import annotations

from helix.customer.access import find_account, open_task_counter
from helix.customer.errors import PreconditionRequired, StaleWrite
from helix.customer.notes import add_note, delete_note, get_note, list_notes, update_note
from helix.customer.plans import (
    add_goal,
    add_milestone,
    get_goal,
    get_milestone,
    get_plan,
    plan_dict,
    put_plan,
    update_goal,
    update_milestone,
)
from helix.customer.profile import (
    contacts,
    customer_header,
    health_history,
    mrr_movements,
    stakeholder_map,
    subscriptions,
    usage_summary,
    usage_weekly,
)
from helix.customer.timeline import timeline

__all__ = [
    "find_account",
    "open_task_counter",
    "StaleWrite",
    "PreconditionRequired",
    "add_note",
    "update_note",
    "delete_note",
    "get_note",
    "list_notes",
    "get_plan",
    "plan_dict",
    "put_plan",
    "add_goal",
    "update_goal",
    "get_goal",
    "add_milestone",
    "update_milestone",
    "get_milestone",
    "customer_header",
    "health_history",
    "usage_weekly",
    "usage_summary",
    "subscriptions",
    "mrr_movements",
    "contacts",
    "stakeholder_map",
    "timeline",
]
