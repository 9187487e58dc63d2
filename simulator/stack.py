"""The whole sharpeyes stack on loopback: simulator, exporter, tickets, Alertmanager, Prometheus.

Used by the demo (``sharpeyes-sim demo``) and by the end-to-end tests. Every component runs as its
own process through its own command line — the simulator imports nothing of the code it tests; the
stack only starts programs and waits for their readiness endpoints. Configuration is generated into a
work directory with the components' own generators (``sharpeyes-alerts build``,
``sharpeyes-exporter promconfig``), so the demo exercises exactly what a deployment would.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

LOCALHOST = "127.0.0.1"


class StackError(Exception):
    """A component could not be prepared or started; the message says which and why."""


@dataclass(frozen=True)
class Ports:
    control: int = 9180
    exporter: int = 9430
    tickets: int = 9440
    alertmanager: int = 9093
    prometheus: int = 9090

    def offset(self, n: int) -> Ports:
        return Ports(*(getattr(self, f) + n for f in ("control", "exporter", "tickets", "alertmanager",
                                                       "prometheus")))


@dataclass(frozen=True)
class StackOptions:
    inventory: Path
    workdir: Path
    ports: Ports = field(default_factory=Ports)
    townships: tuple[str, ...] = ()  # serve and monitor only these (the whole district if empty)
    interval_scale: float = 0.5  # scrape intervals × this (1.0 = production)
    for_scale: float = 0.1  # alert for: × this
    hold_down: str = "30s"  # tickets: all alerts quiet this long → resolved
    nft_table: str = "sharpeyes_demo"
    # the devices' SNMP/ONVIF/RTSP ports; tests move them off 161/80/554 so that they never collide
    # with another simulator (or a real agent) on the same loopback addresses
    device_ports: tuple[int, int, int] = (161, 80, 554)
    fresh: bool = True  # wipe the TSDB, Alertmanager state and tickets DB of a previous run


def _bin(name: str) -> str:
    """A console script of ours next to this interpreter, else from PATH."""
    here = Path(sys.executable).parent / name
    if here.exists():
        return str(here)
    found = shutil.which(name)
    if not found:
        raise StackError(f"{name} not found: install sharpeyes (pip install -e .)")
    return found


def _system_bin(*names: str, package: str) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise StackError(f"{names[0]} not found (Debian: apt-get install {package}; or run scripts/setup.sh)")


def port_free(port: int, host: str = LOCALHOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def http_json(url: str, *, method: str = "GET", body: Any = None, token: str | None = None,
              timeout: float = 5.0) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        raw = resp.read()
    return json.loads(raw) if raw else None


@dataclass
class Process:
    name: str
    argv: list[str]
    ready_url: str
    log: Path
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None

    def start(self, cwd: Path) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(self.argv, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env={**os.environ, **self.env},
                                         start_new_session=True)

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        delay = 0.05
        while True:
            if self.proc is not None and self.proc.poll() is not None:
                raise StackError(f"{self.name} exited with status {self.proc.returncode} while starting: "
                                 f"{self.last_log_line()} (log: {self.log})")
            try:
                with urllib.request.urlopen(self.ready_url, timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise StackError(f"{self.name} not ready after {timeout:.0f} s at {self.ready_url} "
                                 f"(log: {self.log})")
            time.sleep(delay)  # polling a readiness endpoint, not waiting for a guess
            delay = min(delay * 1.5, 0.5)

    def last_log_line(self) -> str:
        try:
            lines = [ln for ln in self.log.read_text(errors="replace").splitlines() if ln.strip()]
        except OSError:
            return ""
        return lines[-1].strip() if lines else ""

    def stop(self, timeout: float = 15.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)


class Stack:
    """Prepare configs into ``workdir`` and run every component; a context manager stops them all."""

    def __init__(self, opts: StackOptions) -> None:
        self.opts = replace(opts, workdir=opts.workdir.resolve(), inventory=opts.inventory.resolve())
        self.processes: list[Process] = []
        w = self.opts.workdir
        self.inventory_dir = w / "inventory"
        self.secrets_file = w / "sim-secrets.yaml"
        self.tickets_token_file = w / "tickets-district.token"
        self.webhook_token_file = w / "tickets-webhook.token"
        self.alerts_dir = w / "alerts"
        self.exporter_config = w / "exporter.yml"
        self.logs = w / "logs"

    # --- URLs ---------------------------------------------------------------------------------
    def url(self, component: str) -> str:
        return f"http://{LOCALHOST}:{getattr(self.opts.ports, component)}"

    @property
    def tickets_token(self) -> str:
        return self.tickets_token_file.read_text().strip()

    # --- preparation ----------------------------------------------------------------------------
    def prepare(self) -> None:
        w = self.opts.workdir
        w.mkdir(parents=True, exist_ok=True)
        if self.exporter_config.exists():
            self.exporter_config.unlink()
        if self.opts.fresh:
            for sub in ("prometheus-data", "alertmanager-data", "tickets.sqlite3", "tickets.sqlite3-wal",
                        "tickets.sqlite3-shm"):
                p = w / sub
                if p.is_dir():
                    shutil.rmtree(p)
                elif p.exists():
                    p.unlink()
        self._inventory_subset()
        if self.opts.device_ports != (161, 80, 554):
            self._device_ports()
        if not self.secrets_file.exists():
            from .secrets import write_demo

            write_demo(self.secrets_file)  # random demo credentials, shared by simulator and exporter
        for path in (self.tickets_token_file, self.webhook_token_file):
            if not path.exists():
                path.write_text(secrets.token_urlsafe(24) + "\n")
                path.chmod(0o600)
        (w / "tickets.yaml").write_text(self._tickets_config(), encoding="utf-8")
        self._run([_bin("sharpeyes-alerts"), "build", "--out", str(self.alerts_dir), "--group-wait", "2s",
                   "--group-interval", "5s", "--repeat-interval", "1h",
                   "--tickets-url", f"{self.url('tickets')}/api/v1/alertmanager",
                   "--tickets-credentials-file", str(self.webhook_token_file),
                   "--for-scale", str(self.opts.for_scale)], "sharpeyes-alerts build")
        exporter = f"{LOCALHOST}:{self.opts.ports.exporter}"
        self._run([_bin("sharpeyes-exporter"), "promconfig", "--exporter", exporter,
                   "--tickets", f"{LOCALHOST}:{self.opts.ports.tickets}",
                   "--interval-scale", str(self.opts.interval_scale),
                   "--rules", str(self.alerts_dir / "sharpeyes-recording.yml"),
                   "--rules", str(self.alerts_dir / "sharpeyes-rules.yml"),
                   "--alertmanager", self.url("alertmanager"), "--out", str(w / "prometheus.yml")],
                  "sharpeyes-exporter promconfig")

    def _device_ports(self) -> None:
        """Move the devices off 161/80/554: the inventory's camera ports and the exporter's SNMP port."""
        import importlib.util

        import yaml

        from inventory import load_inventory
        from inventory.writer import write_inventory

        snmp, onvif, rtsp = self.opts.device_ports
        inv = load_inventory(self.inventory_dir)
        for dev in inv.devices.values():
            if dev.kind == "camera":
                dev.onvif_port, dev.rtsp_port = onvif, rtsp
        shutil.rmtree(self.inventory_dir)
        write_inventory(inv, self.inventory_dir)
        spec = importlib.util.find_spec("exporters")  # the exporter's own default config, as data
        if spec is None or spec.origin is None:
            raise StackError("the exporters package is not installed")
        cfg = yaml.safe_load((Path(spec.origin).parent / "default.yml").read_text(encoding="utf-8"))
        for module in ("snmp_camera", "snmp_switch"):
            settings = cfg["modules"][module].setdefault(module, {}) or {}
            settings["port"] = snmp
            cfg["modules"][module][module] = settings
        self.exporter_config.write_text(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True), encoding="utf-8")

    def _inventory_subset(self) -> None:
        """The inventory the stack runs on: the given one, or only the chosen townships of it."""
        src, dst = self.opts.inventory, self.inventory_dir
        if dst.exists():
            shutil.rmtree(dst)
        (dst / "townships").mkdir(parents=True)
        shutil.copy2(src / "district.yaml", dst / "district.yaml")
        wanted = set(self.opts.townships)
        present = {p.stem for p in (src / "townships").glob("*.yaml")}
        unknown = wanted - present
        if unknown:
            raise StackError(f"unknown township(s): {', '.join(sorted(unknown))} "
                             f"(inventory has: {', '.join(sorted(present))})")
        for path in sorted((src / "townships").glob("*.yaml")):
            if not wanted or path.stem in wanted:
                shutil.copy2(path, dst / "townships" / path.name)

    def _tickets_config(self) -> str:
        w = self.opts.workdir
        return "\n".join([
            "# generated by the sharpeyes demo stack",
            f"listen: {LOCALHOST}:{self.opts.ports.tickets}",
            f"db: sqlite:///{w / 'tickets.sqlite3'}",
            "timezone: Asia/Shanghai",
            f"hold_down: {self.opts.hold_down}",
            "reopen_window: 1h",
            "tick_interval: 2s",
            f"inventory: {self.inventory_dir}",
            "tokens:",
            f"  - {{name: district-centre, role: district, token_file: {self.tickets_token_file}}}",
            f"  - {{name: alertmanager, role: webhook, token_file: {self.webhook_token_file}}}",
            "",
        ])

    def _run(self, argv: list[str], what: str) -> None:
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            lines = [ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
            raise StackError(f"{what} failed: {lines[-1] if lines else f'exit status {proc.returncode}'}")

    # --- processes ----------------------------------------------------------------------------
    def _processes(self) -> list[Process]:
        w, p = self.opts.workdir, self.opts.ports
        env = {"SHARPEYES_SECRETS": str(self.secrets_file), "SHARPEYES_SIM_SECRETS": str(self.secrets_file)}
        prometheus = _system_bin("prometheus", package="prometheus")
        alertmanager = _system_bin("prometheus-alertmanager", "alertmanager", package="prometheus-alertmanager")
        return [
            Process("simulator", [_bin("sharpeyes-sim"), "run", "--inventory", str(self.inventory_dir),
                                  "--control", f"{LOCALHOST}:{p.control}", "--secrets", str(self.secrets_file),
                                  "--nft-table", self.opts.nft_table, *self._sim_port_args()],
                    f"{self.url('control')}/api/health", self.logs / "simulator.log", env),
            Process("exporter", [_bin("sharpeyes-exporter"), "--inventory", str(self.inventory_dir),
                                 "--web.listen-address", f"{LOCALHOST}:{p.exporter}", *self._exporter_args()],
                    f"{self.url('exporter')}/-/healthy", self.logs / "exporter.log", env),
            Process("tickets", [_bin("sharpeyes-tickets"), "serve", "--config", str(w / "tickets.yaml")],
                    f"{self.url('tickets')}/healthz", self.logs / "tickets.log"),
            Process("alertmanager", [alertmanager, f"--config.file={self.alerts_dir / 'alertmanager.yml'}",
                                     f"--storage.path={w / 'alertmanager-data'}",
                                     f"--web.listen-address={LOCALHOST}:{p.alertmanager}",
                                     "--cluster.listen-address="],
                    f"{self.url('alertmanager')}/-/ready", self.logs / "alertmanager.log"),
            Process("prometheus", [prometheus, f"--config.file={w / 'prometheus.yml'}",
                                   f"--storage.tsdb.path={w / 'prometheus-data'}",
                                   f"--web.listen-address={LOCALHOST}:{p.prometheus}",
                                   "--web.enable-lifecycle", "--storage.tsdb.retention.time=2d"],
                    f"{self.url('prometheus')}/-/ready", self.logs / "prometheus.log"),
        ]

    def _sim_port_args(self) -> list[str]:
        if self.opts.device_ports == (161, 80, 554):
            return []
        snmp, onvif, rtsp = self.opts.device_ports
        return ["--snmp-port", str(snmp), "--onvif-port", str(onvif), "--rtsp-port", str(rtsp)]

    def _exporter_args(self) -> list[str]:
        return ["--config.file", str(self.exporter_config)] if self.exporter_config.exists() else []

    def check_ports(self) -> None:
        names = {"control": "simulator control API", "exporter": "exporter", "tickets": "ticket service",
                 "alertmanager": "Alertmanager", "prometheus": "Prometheus"}
        busy = [f"{port} ({names[n]})" for n, port in vars(self.opts.ports).items() if not port_free(port)]
        if busy:
            raise StackError(f"port{'s' if len(busy) > 1 else ''} already in use on {LOCALHOST}: "
                             f"{', '.join(busy)} — stop what uses them or choose other ports (--port-offset N)")

    def start(self, timeout: float = 90.0) -> None:
        self.check_ports()
        self.prepare()
        for proc in self._processes():
            self.processes.append(proc)
            proc.start(self.opts.workdir)
            proc.wait_ready(timeout)

    def stop(self) -> None:
        for proc in reversed(self.processes):
            proc.stop()
        self.processes.clear()

    def __enter__(self) -> Stack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- what the demo and tests ask of a running stack ------------------------------------------
    def query(self, promql: str) -> list[dict[str, Any]]:
        url = f"{self.url('prometheus')}/api/v1/query?query={urllib.parse.quote(promql)}"
        data = http_json(url)
        if data.get("status") != "success":
            raise StackError(f"Prometheus query failed: {data.get('error', data)}")
        return list(data["data"]["result"])

    def fault(self, ftype: str, target: str, **params: Any) -> str:
        body: dict[str, Any] = {"type": ftype, "target": target}
        if params:
            body["params"] = params
        try:
            out = http_json(f"{self.url('control')}/api/faults", method="POST", body=body)
        except urllib.error.HTTPError as exc:
            raise StackError(f"the simulator refused fault {ftype} on {target}: "
                             f"{exc.read().decode(errors='replace')[:300]}") from None
        return str(out["id"])

    def clear_faults(self) -> None:
        http_json(f"{self.url('control')}/api/faults", method="DELETE")

    def tickets(self, **filters: str) -> list[dict[str, Any]]:
        qs = "&".join(f"{k}={urllib.parse.quote(v)}" for k, v in filters.items())
        data = http_json(f"{self.url('tickets')}/api/v1/tickets?{qs}", token=self.tickets_token)
        return list(data["tickets"])

    def wait_for(self, what: str, condition: Any, timeout: float, every: float = 1.0) -> Any:
        """Poll ``condition()`` until it returns something truthy; StackError after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            result = condition()
            if result:
                return result
            if time.monotonic() > deadline:
                raise StackError(f"timed out after {timeout:.0f} s waiting for {what}")
            time.sleep(every)


@contextmanager
def running(opts: StackOptions) -> Iterator[Stack]:
    with Stack(opts) as stack:
        yield stack
