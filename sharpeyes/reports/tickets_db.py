"""Repair times per contractor from the tickets database, read-only through table reflection.

We import nothing from ``tickets/``: the ``tickets`` table is reflected (SQLAlchemy Core) and only
the columns we need are read. Times are stored as naive UTC. A ticket counts for the month when its
SLA clock started in the month; merged tickets (their alerts moved to a root-cause ticket) are left
out so one fault is counted once.

The times are the ones recorded as the work happens (the technician's page or the API): acknowledged,
arrived on site, repaired (service restored; the closure when monitoring never saw it), closed,
approved by the supervisor. A ticket whose closure the supervisor rejected is back in progress and
counts as not repaired until it is closed again.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from sqlalchemy import MetaData, Table, create_engine, select
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from sharpeyes.cli import UserError, db_url

NEEDED = ("contractor", "state")
ACTIVE = ("open", "acknowledged", "in_progress")
TIMES = ("opened_at", "sla_start", "acknowledged_at", "arrived_at", "restored_at", "resolved_at", "closed_at",
         "approved_at", "response_due", "repair_due")


def _utc(v: Any) -> pd.Timestamp | None:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return None
    if isinstance(v, str):
        v = dt.datetime.fromisoformat(v)
    ts = pd.Timestamp(v)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def read_tickets(url: str, start: float, end: float) -> pd.DataFrame | None:
    """Tickets whose SLA clock started in [start, end); None when there is no tickets table."""
    try:
        engine = create_engine(db_url(url))
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise UserError(f"--tickets-db: cannot use database URL: {exc}", status=2) from None
    try:
        with engine.connect() as conn:
            md = MetaData()
            try:
                table = Table("tickets", md, autoload_with=conn)
            except SQLAlchemyError:
                return None
            cols = table.c
            if any(c not in cols for c in NEEDED):
                return None
            started = cols["sla_start"] if "sla_start" in cols else cols["opened_at"]
            wanted = [
                c
                for c in (
                    "id",
                    "contractor",
                    "state",
                    "severity",
                    "area",
                    "subject",
                    "root_key",
                    "opened_at",
                    "sla_start",
                    *TIMES,
                    "review",
                    "response_breached",
                    "repair_breached",
                )
                if c in cols
            ]
            wanted = list(dict.fromkeys(wanted))
            lo = dt.datetime.fromtimestamp(start, dt.UTC).replace(tzinfo=None)
            hi = dt.datetime.fromtimestamp(end, dt.UTC).replace(tzinfo=None)
            rows = conn.execute(
                select(*[cols[c] for c in wanted]).where(started >= lo, started < hi)
            ).mappings()
            df = pd.DataFrame([dict(r) for r in rows], columns=wanted)
    except SQLAlchemyError as exc:
        msg = str(exc).splitlines()[0]
        raise UserError(f"--tickets-db: cannot read the tickets database: {msg}") from None
    finally:
        engine.dispose()
    for c in TIMES:
        if c in df:
            df[c] = pd.to_datetime(df[c].map(_utc), utc=True)
    if "sla_start" not in df:
        df["sla_start"] = df["opened_at"]
    df = df[df["state"] != "merged"]
    return df.reset_index(drop=True)


def per_contractor(df: pd.DataFrame, month_end: float, sla_target: float) -> pd.DataFrame:
    """Tickets, repaired, MTTR (hours, SLA start → repaired), mean hours to acknowledge and to arrive,
    closures approved, response/repair breaches, compliance."""
    now = min(pd.Timestamp.now(tz="UTC"), pd.Timestamp(month_end, unit="s", tz="UTC"))
    nat = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns, UTC]")
    fixed = df.get("restored_at", nat)
    for c in ("resolved_at", "closed_at"):
        if c in df:
            fixed = fixed.fillna(df[c])
    fixed = fixed.where(~df["state"].isin(ACTIVE))  # reopened or rejected: not repaired (yet)
    work = df.assign(fixed=fixed)
    work["repair_h"] = (work["fixed"] - work["sla_start"]).dt.total_seconds() / 3600
    for col, at in (("ack_h", "acknowledged_at"), ("arrive_h", "arrived_at")):
        work[col] = (work.get(at, nat) - work["sla_start"]).dt.total_seconds() / 3600
    work["approved"] = work.get("approved_at", nat).notna()
    if "repair_due" in work:
        work["repair_late"] = work["fixed"].fillna(now) > work["repair_due"]
    else:
        work["repair_late"] = work.get("repair_breached", False)
    if "response_due" in work and "acknowledged_at" in work:
        work["response_late"] = work["acknowledged_at"].fillna(now) > work["response_due"]
    else:
        work["response_late"] = work.get("response_breached", False)
    g = work.groupby("contractor")
    out = g.agg(
        tickets=("state", "size"),
        repaired=("fixed", "count"),
        mttr_h=("repair_h", "mean"),
        max_repair_h=("repair_h", "max"),
        ack_h=("ack_h", "mean"),
        arrive_h=("arrive_h", "mean"),
        approved=("approved", "sum"),
        response_late=("response_late", "sum"),
        repair_late=("repair_late", "sum"),
    )
    out["sla_rate"] = 1 - out["repair_late"] / out["tickets"]
    out["sla_ok"] = out["sla_rate"] >= sla_target
    return out
