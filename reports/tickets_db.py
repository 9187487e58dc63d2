"""Repair times per contractor from the tickets database, read-only through table reflection.

We import nothing from ``tickets/``: the ``tickets`` table is reflected (SQLAlchemy Core) and only
the columns we need are read. Times are stored as naive UTC. A ticket counts for the month when its
SLA clock started in the month; merged tickets (their alerts moved to a root-cause ticket) are left
out so one fault is counted once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from sqlalchemy import MetaData, Table, create_engine, select
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from inventory.console import UserError

NEEDED = ("contractor", "state")


def _utc(v: Any) -> pd.Timestamp | None:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return None
    if isinstance(v, str):
        v = dt.datetime.fromisoformat(v)
    ts = pd.Timestamp(v)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def read_tickets(url: str, start: float, end: float) -> pd.DataFrame | None:
    """Tickets whose SLA clock started in [start, end); None when there is no tickets table."""
    for prefix in ("postgresql://", "postgres://"):  # plain URLs mean psycopg 3, the driver we ship
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix) :]
    try:
        engine = create_engine(url)
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
                    "acknowledged_at",
                    "restored_at",
                    "resolved_at",
                    "response_due",
                    "repair_due",
                    "response_breached",
                    "repair_breached",
                )
                if c in cols
            ]
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
    for c in (
        "opened_at",
        "sla_start",
        "acknowledged_at",
        "restored_at",
        "resolved_at",
        "response_due",
        "repair_due",
    ):
        if c in df:
            df[c] = pd.to_datetime(df[c].map(_utc), utc=True)
    if "sla_start" not in df:
        df["sla_start"] = df["opened_at"]
    df = df[df["state"] != "merged"]
    return df.reset_index(drop=True)


def per_contractor(df: pd.DataFrame, month_end: float, sla_target: float) -> pd.DataFrame:
    """Tickets, repaired, MTTR (hours, SLA start → restored), response/repair breaches, compliance."""
    now = min(pd.Timestamp.now(tz="UTC"), pd.Timestamp(month_end, unit="s", tz="UTC"))
    fixed = df["restored_at"] if "restored_at" in df else pd.Series(pd.NaT, index=df.index)
    if "resolved_at" in df:
        fixed = fixed.fillna(df["resolved_at"])
    work = df.assign(fixed=fixed)
    work["repair_h"] = (work["fixed"] - work["sla_start"]).dt.total_seconds() / 3600
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
        response_late=("response_late", "sum"),
        repair_late=("repair_late", "sum"),
    )
    out["sla_rate"] = 1 - out["repair_late"] / out["tickets"]
    out["sla_ok"] = out["sla_rate"] >= sla_target
    return out
