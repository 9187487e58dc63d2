"""What a principal may see and do, as a narrowing of the ticket query.

Every read of tickets — lists, details, actions, photos, exports, page and API alike — goes through
:func:`scoped`, so a row outside a person's reach is never loaded at all (a template cannot leak
what the query never returned). Outside the scope a ticket answers 404, as if it did not exist.
"""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import Select, false

from sharpeyes.tickets.auth import Principal
from sharpeyes.tickets.models import ADMIN, MANAGER, SUPERVISOR, TECHNICIAN, Ticket

S = TypeVar("S", bound=Select)  # type: ignore[type-arg]

WORK = frozenset({"acknowledge", "start", "arrive", "comment", "close", "photo"})
REVIEW = frozenset({"approve", "reject"})
# actions each role may take on a ticket it can see
ACTIONS: dict[str, frozenset[str]] = {
    "district": WORK | REVIEW | {"reopen", "assign"},
    "contractor": WORK | {"reopen"},
    TECHNICIAN: WORK,
    MANAGER: WORK | {"assign", "reopen"},
    SUPERVISOR: REVIEW | {"comment"},
    ADMIN: frozenset(),
}


def scoped(q: S, p: Principal) -> S:
    """Narrow a query over ``Ticket`` to the rows ``p`` may see."""
    if p.is_district:
        return q
    if not p.contractor or not p.roles & {"contractor", TECHNICIAN, MANAGER}:
        return q.where(false())
    q = q.where(Ticket.contractor == p.contractor)
    if TECHNICIAN in p.roles and p.zones:
        q = q.where(Ticket.township.in_(sorted(p.zones)) | (Ticket.assignee == p.name))
    return q


def may(p: Principal, action: str) -> bool:
    return any(action in ACTIONS.get(r, frozenset()) for r in p.roles)
