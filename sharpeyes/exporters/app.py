"""sharpeyes-exporter's HTTP side: one asyncio process, aiohttp, a multi-target prober.

Endpoints: ``/probe`` (a fresh set of samples per request, never HTTP 500 for a device failure),
``/metrics`` (the exporter's own metrics only), ``/sd`` (Prometheus http_sd from the inventory),
``/inventory/metrics`` (the inventory's ``_info`` series, rendered once per load),
``/discovery/metrics`` (the cached discovery/audit results file, see docs/discovery.md), ``/config``,
``/``, ``/-/healthy``, ``/-/ready`` and ``/-/reload`` (POST; SIGHUP does the same).

Configuration and inventory live in one immutable ``Snapshot`` that a reload replaces in a single
assignment: a request sees the old pair or the new pair, never a mix, and a failed reload leaves
the old pair serving. Reloads are coalesced (a storm of requests costs one or two loads) and run
in a worker thread so probes keep flowing.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import signal
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from sharpeyes.contract import PROBE_ERROR_INFO, PROBE_SUCCESS
from sharpeyes.exporters.addresses import canonical_ip
from sharpeyes.exporters.config import Config, ConfigError, ModuleConfig, load_config
from sharpeyes.exporters.exposition import CONTENT_TYPE, TextWriter
from sharpeyes.exporters.inventory_state import InventoryState, signature
from sharpeyes.exporters.probers import PROBERS, ProberEntry, retain_all
from sharpeyes.exporters.probers.base import REASONS, Module, ProbeError, Target
from sharpeyes.inventory import InventoryError

log = logging.getLogger("sharpeyes.exporter")

TIMEOUT_HEADER = "X-Prometheus-Scrape-Timeout-Seconds"
DEFAULT_TIMEOUT_OFFSET = 0.5
VERSION = "0.1.0"
RESULTS = ("success", "failure")
# discovery/audit results written by `sharpeyes-exporter discover|audit` into their default --state-dir
# (exporters/discovery); --discovery.metrics-file names another file
DEFAULT_DISCOVERY_METRICS = Path("var/discovery/metrics.prom")
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60)


@dataclass(frozen=True, slots=True)
class Snapshot:
    config: Config
    inventory: InventoryState
    modules: dict[str, Module]  # probers.base.Module per configured module


@dataclass(frozen=True, slots=True)
class _ModuleMetrics:
    in_flight: Any
    success: Any
    failure: Any
    duration: Any


class ExporterMetrics:
    """The exporter's own metrics (``/metrics``), in a registry of its own."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        r = self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        self._children: dict[str, _ModuleMetrics] = {}
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        GCCollector(registry=r)
        Gauge("sharpeyes_exporter_build_info", "Version of sharpeyes-exporter (value 1).", ["version"],
              registry=r).labels(VERSION).set(1)
        self.probes = Counter("sharpeyes_exporter_probes", "Probes run, by module and result.",
                              ["module", "result"], registry=r)
        self.failures = Counter("sharpeyes_exporter_probe_failures",
                                "Failed probes by module and reason (internal = a prober bug, see the log).",
                                ["module", "reason"], registry=r)
        self.duration = Histogram("sharpeyes_exporter_probe_duration_seconds",
                                  "Wall time of probes (queueing included), by module.", ["module"],
                                  buckets=BUCKETS,
                                  registry=r)
        self.in_flight = Gauge("sharpeyes_exporter_probes_in_flight",
                               "Probes running or waiting for a concurrency slot, by module.", ["module"],
                               registry=r)
        self.rejected = Counter("sharpeyes_exporter_probe_requests_rejected",
                                "Probe requests answered 400 (unknown module/target, bad parameters).",
                                registry=r)
        self.config_ok = Gauge("sharpeyes_exporter_config_last_reload_successful",
                               "1 if the last configuration (re)load succeeded.", registry=r)
        self.config_ts = Gauge("sharpeyes_exporter_config_last_reload_success_timestamp_seconds",
                               "Time of the last successful configuration (re)load.", registry=r)
        self.inventory_ok = Gauge("sharpeyes_exporter_inventory_last_reload_successful",
                                  "1 if the last inventory (re)load succeeded.", registry=r)
        self.inventory_ts = Gauge("sharpeyes_exporter_inventory_last_reload_success_timestamp_seconds",
                                  "Time of the last successful inventory (re)load.", registry=r)
        self.devices = Gauge("sharpeyes_exporter_inventory_devices",
                             "Devices in the loaded inventory, by kind and status.", ["kind", "status"],
                             registry=r)
        self.reloads = Counter("sharpeyes_exporter_reloads", "Reload attempts by what and result.",
                               ["what", "result"], registry=r)

    def children(self, module: str) -> _ModuleMetrics:
        """The per-module children of the probe metrics, looked up once per module name."""
        found = self._children.get(module)
        if found is None:
            found = self._children[module] = _ModuleMetrics(
                self.in_flight.labels(module), self.probes.labels(module, "success"),
                self.probes.labels(module, "failure"), self.duration.labels(module))
        return found

    def prepare(self, snap: Snapshot) -> None:
        """Initialise label sets so that every module shows up with 0 before its first probe."""
        for name in snap.config.modules:
            for result in RESULTS:
                self.probes.labels(name, result)
            self.duration.labels(name)
            self.in_flight.labels(name)
        self.devices.clear()
        for (kind, status), n in sorted(snap.inventory.device_counts.items()):
            self.devices.labels(kind, status).set(n)


class BadRequest(Exception):
    pass


class Exporter:
    def __init__(self, config_file: str | Path | None = None, inventory_dir: str | Path | None = None, *,
                 probers: Mapping[str, ProberEntry] | None = None,
                 timeout_offset: float = DEFAULT_TIMEOUT_OFFSET,
                 poll_interval: float = 5.0, registry: CollectorRegistry | None = None,
                 townships: Iterable[str] | None = None,
                 discovery_metrics: str | Path = DEFAULT_DISCOVERY_METRICS) -> None:
        self.config_file = config_file
        self.inventory_dir = inventory_dir
        # township shard (--inventory.township): None = the whole inventory, "" = district-level devices
        self.townships = tuple(dict.fromkeys(townships)) if townships is not None else None
        self.probers = probers if probers is not None else PROBERS
        self.timeout_offset = timeout_offset
        self.poll_interval = poll_interval
        self.metrics = ExporterMetrics(registry)
        self.snapshot: Snapshot | None = None
        self._semaphores: dict[tuple[str, int], asyncio.Semaphore] = {}
        self._reload_lock = asyncio.Lock()
        self._requested = 0
        self._completed = 0
        self._last_result: tuple[bool, str] = (True, "")
        self._tasks: set[asyncio.Task[Any]] = set()
        self._watcher: asyncio.Task[None] | None = None
        # resolved once: a later chdir (or none, under systemd) does not change which file is served
        self.discovery_metrics = Path(discovery_metrics).resolve()

    # ------------------------------------------------------------------------------- loading

    def _load_config(self) -> Config:
        return load_config(self.config_file, self.probers)

    def _build(self, config: Config, inv: InventoryState) -> Snapshot:
        modules = {name: Module(name, m.prober, m.timeout, m.settings) for name, m in config.modules.items()}
        named = {d.auth for d in inv.inventory.devices.values() if d.auth}
        for missing in sorted(named - set(config.auths)):
            log.warning("inventory names auth profile %r that the config does not define", missing)
        return Snapshot(config, inv, modules)

    def _load_inventory(self) -> InventoryState:
        """The inventory (blocking), restricted to this exporter's townships; raises InventoryError."""
        return InventoryState.load(self.inventory_dir).restrict(self.townships)

    def load(self) -> Snapshot:
        """First load (blocking); raises ConfigError / InventoryError."""
        config = self._load_config()
        inv = self._load_inventory()
        snap = self._install(self._build(config, inv), config=True, inventory=True)
        return snap

    def _install(self, snap: Snapshot, *, config: bool, inventory: bool) -> Snapshot:
        self.snapshot = snap
        now = time.time()
        if config:
            self.metrics.config_ok.set(1)
            self.metrics.config_ts.set(now)
        if inventory:
            self.metrics.inventory_ok.set(1)
            self.metrics.inventory_ts.set(now)
        self.metrics.prepare(snap)
        return snap

    async def reload(self, *, config: bool = True, force_inventory: bool = False) -> tuple[bool, str]:
        """Reload config (optional) and inventory (when changed, or forced) atomically.

        Coalesced: a caller is satisfied by any reload that *started* after it asked, so 100
        requests arriving during one reload cost one more reload, not 100.
        """
        self._requested += 1
        mine = self._requested
        async with self._reload_lock:
            if self._completed >= mine:
                return self._last_result
            covers = self._requested
            result = await self._reload_once(config=config, force_inventory=force_inventory)
            self._completed = covers
            self._last_result = result
            return result

    async def _reload_once(self, *, config: bool, force_inventory: bool) -> tuple[bool, str]:
        old = self.snapshot
        assert old is not None, "load() first"
        new_config = old.config
        if config:
            try:
                new_config = await asyncio.to_thread(self._load_config)
            except ConfigError as exc:
                return self._failed("config", exc)
        inv = old.inventory
        reload_inv = force_inventory or await asyncio.to_thread(_inventory_changed, inv)
        if reload_inv:
            try:
                inv = await asyncio.to_thread(self._load_inventory)
            except (InventoryError, OSError) as exc:
                if config:  # keep the old pair: the reload is atomic
                    self.metrics.config_ok.set(0)
                return self._failed("inventory", exc)
        self._install(self._build(new_config, inv), config=config, inventory=reload_inv)
        if reload_inv:
            await _forget_removed(self.probers, inv)
        for what, done in (("config", config), ("inventory", reload_inv)):
            if done:
                self.metrics.reloads.labels(what, "success").inc()
        log.info("reloaded%s%s", " config" if config else "",
                 f" inventory ({len(inv.inventory.devices)} devices)" if reload_inv else "")
        return True, ""

    def _failed(self, what: str, exc: Exception) -> tuple[bool, str]:
        (self.metrics.config_ok if what == "config" else self.metrics.inventory_ok).set(0)
        self.metrics.reloads.labels(what, "failure").inc()
        message = f"{what} reload failed, keeping the old one: {exc}"
        log.error("%s", message)
        return False, message

    async def watch_inventory(self) -> None:
        """Poll the inventory directory's mtimes; reload the inventory when a file changes."""
        seen_failed: tuple[tuple[str, int, int], ...] | None = None
        while True:
            await asyncio.sleep(self.poll_interval)
            snap = self.snapshot
            if snap is None:
                continue
            try:
                sig = await asyncio.to_thread(signature, snap.inventory.directory)
            except OSError:
                continue
            if sig == snap.inventory.signature or sig == seen_failed:
                continue
            try:
                ok, _ = await self.reload(config=False)
            except Exception:  # the watcher must outlive any bad file; the next change retries
                log.exception("inventory reload crashed, keeping the old one")
                self.metrics.inventory_ok.set(0)
                ok = False
            seen_failed = None if ok else sig

    # ------------------------------------------------------------------------------- probing

    def _semaphore(self, module: ModuleConfig) -> asyncio.Semaphore:
        key = (module.name, module.max_concurrency)
        sem = self._semaphores.get(key)
        if sem is None:
            sem = self._semaphores[key] = asyncio.Semaphore(module.max_concurrency)
        return sem

    def budget(self, module: ModuleConfig, header: str | None) -> float:
        """Seconds the probe may take: the module timeout, capped by Prometheus' scrape timeout - offset."""
        if header is None or header == "":
            return module.timeout
        try:
            scrape = float(header)
        except ValueError:
            raise BadRequest(f"Failed to parse timeout from Prometheus header {TIMEOUT_HEADER}: {header!r}") \
                from None
        if not scrape > 0:
            raise BadRequest(f"{TIMEOUT_HEADER} must be positive, got {header!r}")
        left = scrape - self.timeout_offset
        if left <= 0:
            left = scrape / 2  # tiny scrape timeouts: still answer before Prometheus gives up
        return min(module.timeout, left)

    def resolve(self, snap: Snapshot, module: ModuleConfig, entry: ProberEntry,
                target_param: str, auth_param: str) -> tuple[Target, str]:
        """(Target, problem) for a request; problem is a log-worthy reason the probe cannot work."""
        dev = snap.inventory.device(target_param)
        if auth_param and auth_param not in snap.config.auths:
            raise BadRequest(f"Unknown auth profile {auth_param!r}")
        if dev is not None:
            if not snap.inventory.owns(dev):
                raise BadRequest(f"target {dev.id!r} is not in this exporter's townships "
                                 f"({snap.inventory.shard_text()}); its township: {dev.township or '(none)'}")
            if dev.kind not in module.kinds:
                raise BadRequest(f"Module {module.name!r} does not apply to {dev.kind} {dev.id!r} "
                                 f"(kinds: {', '.join(module.kinds)})")
            profile_name = auth_param or dev.auth or module.auth
            target = snap.inventory.target(dev, None)
        else:
            try:
                ip = canonical_ip(target_param)
            except ValueError:
                raise BadRequest(f"Unknown target {target_param!r} (not an inventory device id "
                                 "nor an IP address)") from None
            if ip in snap.inventory.foreign_ips:
                raise BadRequest(f"target {target_param!r} is the address of an inventory device outside "
                                 f"this exporter's townships ({snap.inventory.shard_text()})")
            if entry.auth is not None:
                self._check_adhoc(module, ip, auth_param)
            profile_name = auth_param or module.auth
            target = Target(ip, ip, "")
        problem = ""
        auth = None
        if entry.auth is not None:
            profile = snap.config.auths.get(profile_name) if profile_name else None
            if profile_name and profile is None:
                problem = f"auth profile {profile_name!r} is not defined in the config"
            else:
                auth = profile.section(entry.auth) if profile is not None else None
        if auth is not None:
            target = Target(target.id, target.ip, target.kind, target.vendor, target.model, auth,
                            target.ports, target.rtsp_port, target.onvif_port, target.extra)
        return target, problem

    @staticmethod
    def _check_adhoc(module: ModuleConfig, ip: str, auth_param: str) -> None:
        """A module that sends credentials probes an address outside the inventory only when its
        config lists the address (adhoc_targets), and then only with its own profile or one of
        its adhoc_auths: otherwise anyone reaching /probe could collect our communities and
        v3 exchanges by naming their own host."""
        if not module.allows_adhoc(ip):
            raise BadRequest(f"Module {module.name!r} sends credentials and probes inventory devices only: "
                             f"{ip} is not one (list its network in the module's adhoc_targets to allow it)")
        if auth_param and auth_param != module.auth and auth_param not in module.adhoc_auths:
            raise BadRequest(f"auth profile {auth_param!r} may not be used for addresses outside the inventory "
                             f"with module {module.name!r} (allowed: its adhoc_auths)")

    async def run_probe(self, snap: Snapshot, module: ModuleConfig, entry: ProberEntry, target: Target,
                        budget: float, problem: str = "") -> str:
        """Run one probe within ``budget`` seconds; always returns exposition text."""
        out = TextWriter()
        start = time.perf_counter()
        deadline = start + budget
        reason = ""
        success = False
        children = self.metrics.children(module.name)
        in_flight = children.in_flight
        in_flight.inc()
        try:
            if problem:
                raise ProbeError("auth", problem)
            success, reason = await self._guarded(snap, module, entry, target, deadline, out)
        except ProbeError as exc:
            reason = exc.reason
            log.debug("probe %s %s failed: %s", module.name, target.id, exc)
        finally:
            in_flight.dec()
        elapsed = time.perf_counter() - start
        (children.success if success else children.failure).inc()
        children.duration.observe(elapsed)
        if not success:
            self.metrics.failures.labels(module.name, reason or "unspecified").inc()
        if reason in REASONS:
            out.gauge(PROBE_ERROR_INFO, "Why the probe failed (value 1).", 1, {"reason": reason})
        out.gauge("probe_duration_seconds", "How long the probe took to complete in seconds.", elapsed)
        out.gauge(PROBE_SUCCESS, "Whether the probe was a success (1) or not (0).", 1 if success else 0)
        return out.render()

    async def _guarded(self, snap: Snapshot, module: ModuleConfig, entry: ProberEntry, target: Target,
                       deadline: float, out: TextWriter) -> tuple[bool, str]:
        """Queue for a slot, then probe; both bounded by the deadline. Returns (success, reason)."""
        loop = asyncio.get_running_loop()
        left = deadline - time.perf_counter()
        sem = self._semaphore(module)
        if sem.locked():  # only a probe that has to queue pays for a timeout around the wait
            try:
                async with asyncio.timeout(left):
                    await sem.acquire()
            except TimeoutError:
                raise ProbeError("timeout", f"no free slot (max_concurrency {module.max_concurrency}) "
                                            "before the deadline") from None
        else:
            await sem.acquire()  # a free slot: returns at once
        try:
            left = deadline - time.perf_counter()
            grace = min(0.1, left * 0.1)  # the prober gets slightly less, to report its own timeout
            try:
                async with asyncio.timeout_at(loop.time() + left):
                    ok = await entry.probe(target, snap.modules[module.name], max(left - grace, 0.001), out)
            except TimeoutError:
                raise ProbeError("timeout", f"cut off after {left:.3f}s") from None
            except ProbeError:
                raise
            except Exception:
                log.exception("prober %s crashed on %s (module %s)", module.prober, target.id, module.name)
                return False, "internal"
            return bool(ok), "" if ok else "unspecified"
        finally:
            sem.release()

    # ------------------------------------------------------------------------------- handlers

    async def handle_probe(self, request: web.Request) -> web.Response:
        snap = self.snapshot
        assert snap is not None
        q = request.query
        try:
            name = q.get("module", "")
            target_param = q.get("target", "")
            if not name:
                raise BadRequest("Module parameter is missing")
            module = snap.config.modules.get(name)
            if module is None:
                raise BadRequest(f"Unknown module {name!r}")
            if not target_param:
                raise BadRequest("Target parameter is missing")
            entry = self.probers[module.prober]
            target, problem = self.resolve(snap, module, entry, target_param, q.get("auth", ""))
            budget = self.budget(module, request.headers.get(TIMEOUT_HEADER))
        except BadRequest as exc:
            self.metrics.rejected.inc()
            return web.Response(status=400, text=f"{exc}\n")
        try:
            body = await self.run_probe(snap, module, entry, target, budget, problem)
        except Exception:  # last line of defence: never a 500 for a device
            log.exception("probe %s %s failed unexpectedly", name, target_param)
            body = "# HELP probe_success Whether the probe was a success (1) or not (0).\n" \
                   "# TYPE probe_success gauge\nprobe_success 0\n"
        return web.Response(body=body.encode("utf-8"), headers={"Content-Type": CONTENT_TYPE})

    async def handle_metrics(self, request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(self.metrics.registry),
                            headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def handle_inventory_metrics(self, request: web.Request) -> web.Response:
        assert self.snapshot is not None
        return web.Response(body=self.snapshot.inventory.info_text, headers={"Content-Type": CONTENT_TYPE})

    async def handle_discovery_metrics(self, request: web.Request) -> web.Response:
        """The discovery/audit results file as written by the last run (served as is)."""
        try:
            body = await asyncio.to_thread(self.discovery_metrics.read_bytes)
        except OSError:
            body = b"# no discovery results yet (run: sharpeyes-exporter discover)\n"
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    async def handle_sd(self, request: web.Request) -> web.Response:
        snap = self.snapshot
        assert snap is not None
        name = request.query.get("module", "")
        module = snap.config.modules.get(name)
        if module is None:
            return web.Response(status=400, text=f"Unknown module {name!r}\n" if name else
                                "Module parameter is missing\n")
        return web.Response(body=snap.inventory.sd_json(module.kinds), content_type="application/json")

    async def handle_config(self, request: web.Request) -> web.Response:
        assert self.snapshot is not None
        return web.Response(text=self.snapshot.config.dump(), content_type="text/plain", charset="utf-8")

    async def handle_reload(self, request: web.Request) -> web.Response:
        ok, message = await self.reload(config=True)
        if ok:
            return web.Response(text="OK\n")
        return web.Response(status=500, text=f"failed to reload config: {message}\n")

    async def handle_healthy(self, request: web.Request) -> web.Response:
        return web.Response(text="Healthy\n")

    async def handle_ready(self, request: web.Request) -> web.Response:
        if self.snapshot is None:
            return web.Response(status=503, text="Not ready\n")
        return web.Response(text="Ready\n")

    async def handle_landing(self, request: web.Request) -> web.Response:
        snap = self.snapshot
        assert snap is not None
        inv = snap.inventory.inventory
        example = next((d.id for d in inv.active_devices() if d.kind == "camera" and snap.inventory.owns(d)), "")
        rows = "".join(
            f"<tr><td>{html.escape(n)}</td><td>{html.escape(m.prober)}</td><td>{m.timeout:g}s</td>"
            f"<td>{html.escape(', '.join(m.kinds))}</td><td><a href='/sd?module={html.escape(n)}'>targets</a>"
            f"</td><td><a href='/probe?module={html.escape(n)}&amp;target={html.escape(example)}'>probe "
            f"{html.escape(example)}</a></td></tr>" for n, m in snap.config.modules.items())
        page = f"""<!doctype html><html><head><meta charset="utf-8"><title>sharpeyes exporter</title></head>
<body><h1>sharpeyes exporter</h1>
<p>Inventory: {html.escape(inv.district.name)} ({html.escape(snap.inventory.directory)}),
{len(inv.devices)} devices, {len(inv.links)} fiber links;
probing {html.escape(snap.inventory.shard_text())} ({len(snap.inventory.labels)} active devices).</p>
<table border="1" cellpadding="4"><tr><th>module</th><th>prober</th><th>timeout</th><th>kinds</th>
<th>http_sd</th><th>example</th></tr>{rows}</table>
<ul><li><a href="/metrics">/metrics</a> (exporter's own metrics)</li>
<li><a href="/inventory/metrics">/inventory/metrics</a> (inventory _info series)</li>
<li><a href="/config">/config</a> (effective configuration, secrets hidden)</li>
<li><a href="/-/healthy">/-/healthy</a></li></ul></body></html>"""
        return web.Response(text=page, content_type="text/html", charset="utf-8")

    async def handle_vqd_still(self, request: web.Request) -> web.Response:
        """/vqd/<device>/last.jpg and /vqd/<device>/reference.jpg: the stills tickets and dashboards link."""
        from sharpeyes.vqd.store import BaselineStore

        snap = self.snapshot
        assert snap is not None
        device, name = request.match_info["device"], request.match_info["name"]
        dev = snap.inventory.inventory.devices.get(device)
        if dev is None or name not in ("last", "reference", "reference-day", "reference-night"):
            raise web.HTTPNotFound(text="no such camera or still\n")
        dirs = [m.settings.state_dir for m in snap.config.modules.values() if m.prober == "snapshot"]
        for state_dir in dirs:
            data = await asyncio.to_thread(BaselineStore(state_dir).still, dev.id, name)
            if data is not None:
                return web.Response(body=data, content_type="image/jpeg",
                                    headers={"Cache-Control": "no-store"})
        raise web.HTTPNotFound(text=f"no {name} still of {dev.id} yet\n")

    # ------------------------------------------------------------------------------- lifecycle

    def make_app(self) -> web.Application:
        if self.snapshot is None:
            self.load()
        app = web.Application()
        app.router.add_get("/", self.handle_landing)
        app.router.add_get("/probe", self.handle_probe)
        app.router.add_get("/metrics", self.handle_metrics)
        app.router.add_get("/inventory/metrics", self.handle_inventory_metrics)
        app.router.add_get("/discovery/metrics", self.handle_discovery_metrics)
        app.router.add_get("/sd", self.handle_sd)
        app.router.add_get("/config", self.handle_config)
        app.router.add_post("/-/reload", self.handle_reload)
        app.router.add_put("/-/reload", self.handle_reload)
        app.router.add_get("/-/healthy", self.handle_healthy)
        app.router.add_get("/-/ready", self.handle_ready)
        app.router.add_get("/vqd/{device}/{name}.jpg", self.handle_vqd_still)
        app.on_startup.append(self._on_startup)
        app.on_cleanup.append(self._on_cleanup)
        return app

    def request_reload(self) -> None:
        """SIGHUP: reload in the background (the handler must not block)."""
        task = asyncio.ensure_future(self.reload(config=True))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _on_startup(self, app: web.Application) -> None:
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGHUP, self.request_reload)
        if self.poll_interval > 0:
            self._watcher = asyncio.ensure_future(self.watch_inventory())

    async def _on_cleanup(self, app: web.Application) -> None:
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.remove_signal_handler(signal.SIGHUP)
        tasks = [t for t in (self._watcher, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.close_probers()

    async def close_probers(self) -> None:
        """Close every prober's shared transports (ONVIF sessions, SNMP and ICMP sockets) once."""
        loaded = getattr(self.probers, "loaded", None)
        entries = loaded() if callable(loaded) else list(self.probers.values())
        closers: list[Any] = []
        for entry in entries:
            if entry.aclose is not None and entry.aclose not in closers:  # bound methods compare equal
                closers.append(entry.aclose)
        results = await asyncio.gather(*(c() for c in closers), return_exceptions=True)
        for r in results:
            if isinstance(r, Exception):
                log.warning("closing a prober failed: %s", r)


async def _forget_removed(probers: Mapping[str, ProberEntry], inv: InventoryState) -> None:
    """Per-device prober state (ONVIF pool, switch walks, SNMPv3 engines) shrinks with the inventory."""
    owned = [d for d in inv.inventory.devices.values() if inv.owns(d)]
    dropped = await retain_all(probers, {d.id for d in owned}, {d.ip for d in owned if d.ip})
    if dropped:
        log.info("forgot prober state of %d removed devices", dropped)


def _inventory_changed(inv: InventoryState) -> bool:
    return signature(inv.directory) != inv.signature
