"""Reads and writes the web app needs beyond the API's: the work queue, photos, breaches per
contractor, people. Every ticket read is narrowed by ``scope.scoped`` like the API's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Integer, case, func, select
from sqlalchemy import cast as sa_cast
from sqlalchemy.orm import Session

from sharpeyes.tickets import lifecycle
from sharpeyes.tickets.auth import Principal
from sharpeyes.tickets.lifecycle import RequestError, Tx
from sharpeyes.tickets.models import ACTIVE_STATES, CLOSED, RESOLVED, Photo, Ticket
from sharpeyes.tickets.scope import may, scoped
from sharpeyes.tickets.service import Forbidden, NotFound, TicketService
from sharpeyes.tickets.views import iso
from sharpeyes.tickets.web.photos import KINDS, Clean, store

QUEUE_LIMIT = 200


def due_of(t: Ticket) -> datetime:
    """The deadline that matters now: response until acknowledged, then repair."""
    return t.response_due if t.acknowledged_at is None else t.repair_due


def urgency() -> Any:
    return case((Ticket.acknowledged_at.is_(None), Ticket.response_due), else_=Ticket.repair_due)


async def queue(svc: TicketService, p: Principal, view: str) -> list[dict[str, Any]]:
    """Open work, most urgent deadline first; ``view=all`` is the latest tickets of any state."""
    q = scoped(select(Ticket), p)
    if view == "all":
        q = q.where(Ticket.state != "merged").order_by(Ticket.id.desc())
    else:
        waiting = (Ticket.state == CLOSED) & (Ticket.review == lifecycle.PENDING)
        q = q.where(Ticket.state.in_((*ACTIVE_STATES, RESOLVED)) | waiting).order_by(urgency(), Ticket.id)
    q = q.limit(QUEUE_LIMIT)
    tz = svc.cfg.tz

    def run(s: Session) -> list[dict[str, Any]]:
        out = []
        for t in s.scalars(q):
            out.append({"id": t.id, "state": t.state, "severity": t.severity, "title_zh": t.title_zh,
                        "title": t.title, "root_key": t.root_key, "township": t.township, "village": t.village,
                        "contractor": t.contractor, "assignee": t.assignee, "review": t.review,
                        "due": due_of(t), "due_iso": iso(due_of(t), tz), "sla_start": t.sla_start,
                        "active": t.state in ACTIVE_STATES, "n_devices": len(t.affected or ()) or 1})
        return out

    return await svc.read(run)


def photo_root(svc: TicketService) -> Path:
    return Path(svc.cfg.web.data_dir) / "photos"


async def add_photo(svc: TicketService, p: Principal, ticket_id: int, kind: str, photo: Clean) -> int:
    if not may(p, "photo"):
        raise Forbidden(f"{p.name!r} may not add photos")
    if kind not in KINDS:
        raise RequestError("kind", f"must be one of {', '.join(KINDS)}")

    def run(tx: Tx) -> int:
        t = tx.session.scalar(scoped(select(Ticket).where(Ticket.id == ticket_id), p))
        if t is None:
            raise NotFound(f"ticket {ticket_id} not found")
        name = store(photo_root(svc), t.id, photo)
        row = Photo(ticket_id=t.id, kind=kind, filename=name, content_type=photo.content_type,
                    size=len(photo.data), uploaded_by=p.name, uploaded_at=tx.now)
        tx.session.add(row)
        tx.session.flush()
        lifecycle.record(tx, t, p.name, "photo", kind=kind, photo=row.id)
        return row.id

    return await svc.write(run)


async def photo_file(svc: TicketService, p: Principal, ticket_id: int, photo_id: int) -> tuple[Path, str]:
    """The photo's file and type, if ``p`` may see its ticket; NotFound otherwise."""

    def run(s: Session) -> tuple[str, str] | None:
        visible = scoped(select(Ticket.id).where(Ticket.id == ticket_id), p)
        row = s.execute(select(Photo.filename, Photo.content_type).where(
            Photo.id == photo_id, Photo.ticket_id == ticket_id, Photo.ticket_id.in_(visible))).first()
        return (row[0], row[1]) if row else None

    found = await svc.read(run)
    if found is None:
        raise NotFound(f"photo {photo_id} of ticket {ticket_id} not found")
    path = photo_root(svc) / found[0]
    if not path.is_file():
        raise NotFound(f"photo {photo_id} of ticket {ticket_id} is missing from the data directory")
    return path, found[1]


@dataclass(frozen=True)
class Breaches:
    contractor: str
    tickets: int
    response: int
    repair: int


async def breaches(svc: TicketService, p: Principal, since: datetime) -> list[Breaches]:
    """Per contractor: tickets whose SLA clock started since ``since`` and how many breached."""
    as_int = lambda c: func.sum(sa_cast(c, Integer))  # noqa: E731
    q = scoped(select(Ticket.contractor, func.count(), as_int(Ticket.response_breached),
                      as_int(Ticket.repair_breached)), p)
    q = q.where(Ticket.sla_start >= since, Ticket.state != "merged").group_by(Ticket.contractor) \
        .order_by(Ticket.contractor)
    rows = await svc.read(lambda s: s.execute(q).all())
    return [Breaches(r[0] or "-", int(r[1]), int(r[2] or 0), int(r[3] or 0)) for r in rows]
