"""One collection round: every recorder asked at once within a concurrency bound, each within its own
deadline, so a slow or dead recorder costs only its own result ("recorder could not be asked")."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from sharpeyes.contract import RECORDER_DIALECT_DEFAULT, RECORDER_DIALECTS, canonical_vendor
from sharpeyes.inventory.model import Inventory

from . import dahua, isapi, onvif_g
from .job import Job, Limits
from .model import CollectError, RecorderResult
from .transport import Transport

Dialect = Callable[[Transport, Job], Awaitable[RecorderResult]]
DIALECTS: dict[str, Dialect] = {"isapi": isapi.collect, "dahua_cgi": dahua.collect, "onvif_g": onvif_g.collect}


@dataclass(frozen=True, slots=True)
class Target:
    recorder: str
    dialect: str
    address: str  # host:port
    auth: str  # credential profile name
    channels: dict[int, str]  # channel -> camera device id


def dialect_of(vendor: str) -> str:
    return RECORDER_DIALECTS.get(canonical_vendor(vendor) or "", RECORDER_DIALECT_DEFAULT)


def targets(inv: Inventory, port: int = 80) -> list[Target]:
    """Every active recorder that records at least one active camera, with its channel map."""
    chans: dict[str, dict[int, str]] = {}
    for dev in inv.active_devices():
        if dev.recording is not None:
            chans.setdefault(dev.recording.recorder, {})[dev.recording.channel] = dev.id
    out = []
    for rid, channels in sorted(chans.items()):
        rec = inv.devices.get(rid)
        if rec is None or not rec.active:
            continue
        out.append(Target(rid, dialect_of(rec.vendor), f"{rec.ip}:{port}", rec.auth, dict(sorted(channels.items()))))
    return out


async def collect_one(target: Target, transport: Callable[[Target], AbstractAsyncContextManager[Transport]],
                      start: float, end: float, now: float, *, deadline: float, limits: Limits,
                      tz: str) -> RecorderResult:
    job = Job(target.recorder, target.dialect, tuple(target.channels), start, end, now, tz, limits)
    t0 = time.monotonic()
    try:
        async with asyncio.timeout(deadline), transport(target) as t:
            res = await DIALECTS[target.dialect](t, job)
    except TimeoutError:
        res = RecorderResult(target.recorder, target.dialect, (start, end), error="timeout",
                             message=f"no complete answer within {deadline:g}s")
    except CollectError as e:
        res = RecorderResult(target.recorder, target.dialect, (start, end), error=e.reason, message=str(e))
    res.duration = time.monotonic() - t0
    return res


async def collect_all(tgts: list[Target], transport: Callable[[Target], AbstractAsyncContextManager[Transport]],
                      start: float, end: float, *, now: float | None = None, concurrency: int = 16,
                      deadline: float = 50.0, limits: Limits | None = None,
                      tz: str = "Asia/Shanghai") -> list[RecorderResult]:
    sem = asyncio.Semaphore(concurrency)

    async def one(tg: Target) -> RecorderResult:
        async with sem:
            # our clock when this recorder's turn comes, not when the round began: a recorder queued
            # behind the concurrency bound would otherwise read the wait as clock drift
            ref = time.time() if now is None else now
            return await collect_one(tg, transport, start, end, ref, deadline=deadline,
                                     limits=limits or Limits(), tz=tz)

    return list(await asyncio.gather(*(one(tg) for tg in tgts)))
