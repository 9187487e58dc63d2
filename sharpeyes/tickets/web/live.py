"""Devices' live state from Prometheus' HTTP API, asked once per ticket page with a short timeout.

One instant query for all of a ticket's devices: the reachability (ICMP) and stream (RTSP) probes'
``probe_success``. Prometheus down or slow is not an error for the page: it shows "unknown".
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import aiohttp

from sharpeyes.contract import job

log = logging.getLogger("sharpeyes.tickets.web")
DEVICE_ID = re.compile(r"^[A-Za-z0-9_:-]{1,100}$")
MAX_DEVICES = 200


@dataclass
class LiveState:
    ok: bool  # False: Prometheus not configured, unreachable, slow or answering nonsense
    # device -> probe module -> 1/0
    probes: dict[str, dict[str, int]] = field(default_factory=dict)

    def state(self, device: str) -> str:
        """up | down | stream_down | unknown"""
        p = self.probes.get(device, {})
        if "icmp" not in p:
            return "unknown"
        if not p["icmp"]:
            return "down"
        return "stream_down" if p.get("rtsp") == 0 else "up"


def promql(devices: list[str]) -> str:
    ids = "|".join(d for d in devices if DEVICE_ID.match(d))
    jobs = "|".join((job("icmp"), job("rtsp")))
    return f'max by (device, job) (probe_success{{job=~"{jobs}",device=~"{ids}"}})'


async def query(session: aiohttp.ClientSession, base_url: str, devices: list[str], timeout: float) -> LiveState:
    devices = [d for d in devices if DEVICE_ID.match(d)][:MAX_DEVICES]
    if not base_url or not devices:
        return LiveState(False)
    jobs = {job("icmp"): "icmp", job("rtsp"): "rtsp"}
    try:
        async with session.get(f"{base_url}/api/v1/query", params={"query": promql(devices)},
                               timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
            if resp.status != 200:
                return LiveState(False)
            data = await resp.json(content_type=None)
        out: dict[str, dict[str, int]] = {}
        for r in data["data"]["result"]:
            m = r["metric"]
            module = jobs.get(m.get("job", ""))
            if module and m.get("device") in devices:
                out.setdefault(m["device"], {})[module] = 1 if float(r["value"][1]) >= 1 else 0
        return LiveState(True, out)
    except (TimeoutError, aiohttp.ClientError, ValueError, KeyError, TypeError, IndexError) as e:
        log.info("live state from Prometheus unavailable: %s", e.__class__.__name__)
        return LiveState(False)
