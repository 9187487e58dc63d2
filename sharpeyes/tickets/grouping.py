"""Root-cause grouping (docs/contract.md, "Alert labels and root cause").

The key of an alert is ``<scope>:<id>``; its ancestors are the fiber link, switches, village and
township on its path. An alert joins, in order of preference:

1. the active ticket of its own key (another alert about the same fault),
2. the active ticket of its nearest ancestor key (the upstream fault already has a ticket),
3. a resolved or closed ticket of its own key that ended within ``reopen_window`` (reopened),
4. a new ticket.

Whatever ticket it lands in, active tickets that list the alert's key among their ancestors are
merged into that ticket: a root cause arriving after its children collects them.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import or_, select

from sharpeyes.tickets import lifecycle
from sharpeyes.tickets.lifecycle import Tx
from sharpeyes.tickets.models import ACTIVE_STATES, CLOSED, RESOLVED, Alert, Ticket, TicketAncestor

SCOPES = ("device", "switch", "fiber_link", "village", "township", "monitoring")
_SCOPE_LABEL = {"device": "device", "switch": "device", "fiber_link": "fiber_link",
                "village": "village", "township": "township", "monitoring": "alertname"}


class GroupingError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def subject(labels: Mapping[str, str]) -> str:
    """The id the root key names (device, switch, link, village, township or alertname)."""
    scope = labels.get("scope", "")
    if scope not in _SCOPE_LABEL:
        raise GroupingError("labels.scope", f"must be one of {', '.join(SCOPES)}, got {scope!r}")
    value = labels.get(_SCOPE_LABEL[scope], "")
    if not value:
        raise GroupingError(f"labels.{_SCOPE_LABEL[scope]}", f"required for scope {scope}")
    return value


def root_key(labels: Mapping[str, str]) -> str:
    sid = subject(labels)  # validates the scope first
    return f"{labels['scope']}:{sid}"


def ancestor_keys(labels: Mapping[str, str]) -> list[str]:
    """Ancestor keys, nearest first, without the alert's own key.

    The contract lists fiber link, uplink switch, access switch, aggregation switch, village,
    township. That is nearest-first for switches (a switch's fiber link is its own uplink), but a
    camera hangs off its access switch by copper, so for a device below an access switch the
    switch comes before the fiber link. An alert about a camera's recording (``recorder`` label)
    has the recorder as its nearest ancestor: a failed recorder is one ticket for all its channels.
    """
    own = root_key(labels)
    fiber = labels.get("fiber_link", "")
    uplink, access = labels.get("uplink_switch", ""), labels.get("access_switch", "")
    below_access = bool(uplink) and uplink == access and labels.get("device", "") != access
    order = ["switch:uplink", "fiber", "switch:access"] if below_access else \
        ["fiber", "switch:uplink", "switch:access"]
    values = {"fiber": f"fiber_link:{fiber}" if fiber else "",
              "switch:uplink": f"switch:{uplink}" if uplink else "",
              "switch:access": f"switch:{access}" if access else ""}
    keys = [values[o] for o in order]
    for label in ("agg_switch", "village", "township"):
        value = labels.get(label, "")
        prefix = "switch" if label == "agg_switch" else label
        keys.append(f"{prefix}:{value}" if value else "")
    if labels.get("recorder"):  # a recording alert's nearest cause is its recorder
        keys.insert(0, f"device:{labels['recorder']}")
    out: list[str] = []
    for k in keys:
        if k and k != own and k not in out:
            out.append(k)
    return out


# --- placement in the store --------------------------------------------------------------------


def active_ticket(tx: Tx, key: str) -> Ticket | None:
    return tx.session.scalars(
        select(Ticket).where(Ticket.root_key == key, Ticket.state.in_(ACTIVE_STATES))
        .order_by(Ticket.id).limit(1)).first()


def recent_ticket(tx: Tx, key: str) -> Ticket | None:
    since = tx.now - tx.cfg.reopen_window
    return tx.session.scalars(
        select(Ticket).where(
            Ticket.root_key == key, Ticket.state.in_((RESOLVED, CLOSED)),
            or_(Ticket.resolved_at >= since, Ticket.closed_at >= since))
        .order_by(Ticket.id.desc()).limit(1)).first()


def place_alert(tx: Tx, alert: Alert) -> Ticket:
    """Attach a newly seen firing alert to its ticket (see the module docstring)."""
    ancestors = ancestor_keys(alert.labels)
    ticket = active_ticket(tx, alert.root_key)
    if ticket is None:
        for key in ancestors:
            ticket = active_ticket(tx, key)
            if ticket is not None:
                break
    if ticket is None:
        ticket = recent_ticket(tx, alert.root_key)
        if ticket is not None:
            lifecycle.reopen(tx, ticket, "system", "recurrence", automatic=True)
    if ticket is None:
        ticket = lifecycle.open_ticket(tx, alert, ancestors)
    else:
        lifecycle.attach(tx, ticket, alert)
    merge_children(tx, ticket, alert.root_key)
    return ticket


def merge_children(tx: Tx, into: Ticket, key: str) -> list[int]:
    """Merge active tickets whose root alert lies below ``key`` into ``into``."""
    children = tx.session.scalars(
        select(Ticket).join(TicketAncestor, TicketAncestor.ticket_id == Ticket.id)
        .where(TicketAncestor.key == key, Ticket.state.in_(ACTIVE_STATES), Ticket.id != into.id)
        .order_by(Ticket.id)).all()
    for child in children:
        lifecycle.merge(tx, child, into)
    return [c.id for c in children]

