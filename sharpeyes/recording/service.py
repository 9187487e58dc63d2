"""The collection loop and the /metrics endpoint of sharpeyes-recording."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, suppress

from aiohttp import web

from sharpeyes.inventory.model import Inventory

from .collector import Target, collect_all, targets
from .config import Config
from .metrics import Counters, render
from .model import RecorderResult
from .store import RecordingStore
from .transport import HttpTransport, Transport

log = logging.getLogger("sharpeyes.recording")
TransportFor = Callable[[Target], AbstractAsyncContextManager[Transport]]


def http_transports(cfg: Config, credentials: dict[str, tuple[str, str]]) -> TransportFor:
    def make(tg: Target) -> AbstractAsyncContextManager[Transport]:
        user, password = credentials.get(tg.auth, ("", ""))
        return HttpTransport(f"http://{tg.address}", user, password, request_timeout=cfg.request_timeout)

    return make


class Collector:
    def __init__(self, cfg: Config, inv: Inventory, store: RecordingStore, transport: TransportFor) -> None:
        self.cfg, self.inv, self.store, self.transport = cfg, inv, store, transport
        self.counters = Counters()
        self.targets = {t.recorder: t for t in targets(inv, cfg.port)}

    async def round(self, start: float, end: float, now: float | None = None) -> list[RecorderResult]:
        """Ask every recorder about [start, end) and keep what they say."""
        results = await collect_all(list(self.targets.values()), self.transport, start, end, now=now,
                                    concurrency=self.cfg.concurrency, deadline=self.cfg.deadline,
                                    limits=self.cfg.limits, tz=self.inv.district.timezone)
        self.feed(results)
        await asyncio.to_thread(self.store.record, results, self.targets, self.cfg.limits.join_seconds)
        return results

    def feed(self, results: list[RecorderResult]) -> None:
        for r in results:
            if r.error:
                self.counters.recorder_errors[(r.recorder, r.error)] += 1
                log.warning("recorder=%s dialect=%s error=%s msg=%r", r.recorder, r.dialect, r.error, r.message)
            for c in r.channels.values():
                if c.error:
                    self.counters.channel_errors[(r.recorder, c.error)] += 1
                for problem, n in c.problems.items():
                    if problem in ("end_before_start", "overlap"):
                        self.counters.problems[(r.recorder, problem)] += n
            if r.clock_offset is not None and abs(r.clock_offset) > 60:
                log.warning("recorder=%s clock_offset=%.0fs (corrected)", r.recorder, r.clock_offset)

    async def run(self, stop: asyncio.Event) -> None:
        last = time.time() - self.cfg.interval
        while not stop.is_set():
            now = time.time()
            try:
                await self.round(last, now)  # each recorder's clock is read against ours at its turn
                last = now
            except Exception:  # keep serving the old state; the next round asks again from `last`
                log.exception("collection round failed")
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.cfg.interval)

    def app(self) -> web.Application:
        async def metrics(_: web.Request) -> web.Response:
            text = await asyncio.to_thread(render, self.store, self.inv, self.counters, None, self.cfg.present_slack)
            return web.Response(text=text, content_type="text/plain", charset="utf-8",
                                headers={"X-Content-Type-Options": "nosniff"})

        a = web.Application()
        a.router.add_get("/metrics", metrics)
        return a
