"""The control API (aiohttp, JSON) on 127.0.0.1:9180 by default.

GET    /api/health                 {"ready": true, "devices": n, "startup_s": …}
GET    /api/devices[?kind=&township=&state=dead|hung|lossy]   device summaries
GET    /api/devices/{id}           one device: state, reachability, ports (switches), model rate (cameras)
GET    /api/fault-types            every fault type with its target kind and parameters
GET    /api/faults                 active faults
POST   /api/faults                 {type, target, params?, duration?} -> 201 fault; 400 {"error", "field"}
DELETE /api/faults/{id}            clear one (404 if unknown)
DELETE /api/faults                 clear all
GET    /api/network                {"dead": [...], "hung": [...], "lossy": {...}} (device ids)
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .faults import FAULT_TYPES, FaultError
from .network import CameraRt, DeviceRt, SwitchRt

if TYPE_CHECKING:
    from .runner import Simulator


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(data, ensure_ascii=False, indent=1), status=status, content_type="application/json"
    )


def _error(status: int, message: str, field: str = "") -> web.Response:
    body = {"error": message}
    if field:
        body["field"] = field
    return _json(body, status)


def device_summary(rt: DeviceRt) -> dict[str, Any]:
    st = rt.state
    world = rt.world
    return {
        "id": rt.dev.id,
        "kind": rt.dev.kind,
        "ip": rt.dev.ip,
        "vendor": rt.dev.vendor,
        "township": rt.dev.township,
        "village": rt.dev.village,
        "reachable": rt.reachable,
        "powered": st.powered,
        "hung": st.hung,
        "encoder_stalled": st.encoder_stalled,
        "credentials_broken": st.credentials_broken,
        "clock_offset_s": st.clock_offset_s,
        "uptime_s": round(st.uptime_s(), 1),
        "loss_percent": world.lossy.get(rt.dev.id, 0),
        "mac": st.mac,
        "serial": st.serial,
    }


def device_detail(rt: DeviceRt) -> dict[str, Any]:
    out = device_summary(rt)
    now = time.time()
    if isinstance(rt, CameraRt):
        out["model_rate_bytes_per_s"] = round(rt.expected_rate(now), 1)
        out["sending_bytes_per_s"] = round(rt.eth_tx.rate(now), 1)
        out["attached"] = ":".join(rt.world.attach.get(rt.dev.id, ("", "")))
    if isinstance(rt, SwitchRt):
        out["ports"] = [
            {
                "name": p.name,
                "if_index": p.if_index,
                "media": p.media,
                "up": p.up,
                "link": p.link,
                "rx_bytes": p.rx.value(now),
                "tx_bytes": p.tx.value(now),
                "rx_rate": round(p.rx.rate(now), 1),
                "tx_rate": round(p.tx.rate(now), 1),
                "rx_dbm": rt.world.rx_power_dbm(rt, p, now),
            }
            for p in rt.ports
        ]
    return out


class ControlApi:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.runner: web.AppRunner | None = None
        app = web.Application()
        app.add_routes(
            [
                web.get("/api/health", self.health),
                web.get("/api/devices", self.devices),
                web.get("/api/devices/{id}", self.device),
                web.get("/api/fault-types", self.fault_types),
                web.get("/api/faults", self.faults),
                web.post("/api/faults", self.add_fault),
                web.delete("/api/faults", self.clear_all),
                web.delete("/api/faults/{id}", self.clear_fault),
                web.get("/api/network", self.network),
            ]
        )
        self.app = app

    async def start(self, host: str, port: int) -> None:
        self.runner = web.AppRunner(self.app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, host, port, reuse_address=True)
        await site.start()

    async def close(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    @property
    def world(self):  # type: ignore[no-untyped-def]
        assert self.sim.world is not None
        return self.sim.world

    async def health(self, request: web.Request) -> web.Response:
        return _json(
            {
                "ready": self.sim.engine is not None,
                "devices": len(self.world.devices),
                "startup_s": round(self.sim.started_s, 2),
            }
        )

    async def devices(self, request: web.Request) -> web.Response:
        q = request.query
        out = []
        world = self.world
        for rt in world.devices.values():
            if q.get("kind") and rt.dev.kind != q["kind"]:
                continue
            if q.get("township") and rt.dev.township != q["township"]:
                continue
            state = q.get("state")
            if state == "dead" and rt.dev.id not in world.dead:
                continue
            if state == "hung" and rt.dev.id not in world.hung:
                continue
            if state == "lossy" and rt.dev.id not in world.lossy:
                continue
            out.append(device_summary(rt))
        return _json(out)

    async def device(self, request: web.Request) -> web.Response:
        rt = self.world.devices.get(request.match_info["id"])
        if rt is None:
            return _error(404, f"no simulated device {request.match_info['id']!r}", "id")
        return _json(device_detail(rt))

    async def fault_types(self, request: web.Request) -> web.Response:
        return _json(
            [
                {
                    "type": t.name,
                    "target": t.target,
                    "help": t.help,
                    "params": {
                        k: {"type": p.kind.__name__, "default": p.default, "required": p.required}
                        for k, p in t.params.items()
                    },
                }
                for t in FAULT_TYPES.values()
            ]
        )

    async def faults(self, request: web.Request) -> web.Response:
        assert self.sim.engine is not None
        return _json([f.to_json() for f in self.sim.engine.faults.values()])

    async def add_fault(self, request: web.Request) -> web.Response:
        assert self.sim.engine is not None
        try:
            spec = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _error(400, "body: expected JSON", "body")
        try:
            fault = await self.sim.engine.add(spec)
        except FaultError as exc:
            return _error(400, str(exc), exc.field)
        return _json(fault.to_json(), 201)

    async def clear_fault(self, request: web.Request) -> web.Response:
        assert self.sim.engine is not None
        try:
            fault = await self.sim.engine.clear(request.match_info["id"])
        except KeyError:
            return _error(404, f"no active fault {request.match_info['id']!r}", "id")
        return _json(fault.to_json())

    async def clear_all(self, request: web.Request) -> web.Response:
        assert self.sim.engine is not None
        return _json({"cleared": await self.sim.engine.clear_all()})

    async def network(self, request: web.Request) -> web.Response:
        w = self.world
        return _json({"dead": sorted(w.dead), "hung": sorted(w.hung), "lossy": w.lossy})
