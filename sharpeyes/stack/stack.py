"""The whole sharpeyes stack on loopback: simulator, exporter, tickets, recording, Alertmanager, Prometheus.

Used by the demo (``sharpeyes-demo``), the end-to-end tests and the fault-to-ticket benchmark. Every
component runs as its own process through its own command line; the stack only prepares configs,
starts programs and waits for their readiness endpoints. Configuration is generated into a work
directory with the components' own generators (``sharpeyes-alerts build``, ``sharpeyes-exporter
promconfig``) plus the stack's own exporter config (exporter_config.py, from the simulator's
secrets), so the demo exercises what a deployment would.
"""

from __future__ import annotations

import contextlib
import ctypes
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
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from sharpeyes.contract import DEFAULT_PORTS, RETENTION_DAYS_BY_TAG, RETENTION_DAYS_DEFAULT
from sharpeyes.stack.exporter_config import ExporterConfigError, write_exporter_config

LOCALHOST = "127.0.0.1"
# the simulated recorders start holding the longest required retention, so that no recorder is short
# (RetentionShort) merely because the simulator started a moment ago
RECORDER_HISTORY_DAYS = max(RETENTION_DAYS_DEFAULT, *RETENTION_DAYS_BY_TAG.values())


class StackError(Exception):
    """A component could not be prepared or started; the message says which and why."""


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port the kernel picked as free on 127.0.0.1 just now (TCP, or UDP with SOCK_DGRAM)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Ports:
    control: int = DEFAULT_PORTS["control"]
    exporter: int = DEFAULT_PORTS["exporter"]
    tickets: int = DEFAULT_PORTS["tickets"]
    alertmanager: int = DEFAULT_PORTS["alertmanager"]
    prometheus: int = DEFAULT_PORTS["prometheus"]
    recording: int = DEFAULT_PORTS["recording"]

    def offset(self, n: int) -> Ports:
        return Ports(*(getattr(self, f.name) + n for f in fields(Ports)))

    @classmethod
    def picked_by_kernel(cls) -> Ports:
        """One free TCP port per service, picked by the kernel now (tests and benchmarks that must
        run beside another copy of themselves; retry with fresh ports if one is taken meanwhile)."""
        with contextlib.ExitStack() as held:  # all bound at once, so the kernel never repeats one
            socks = [held.enter_context(socket.socket()) for _ in fields(cls)]
            for s in socks:
                s.bind(("127.0.0.1", 0))
            return cls(*(int(s.getsockname()[1]) for s in socks))


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
    # UDP port of the exporter's SNMP trap receiver (the simulator's devices send there); None: no traps
    traps_port: int | None = None
    remote_write: tuple[str, ...] = ()  # global stores Prometheus remote-writes to (VictoriaMetrics)
    # video quality diagnosis: the snapshot job's interval in seconds (None: 10 min × interval_scale);
    # an image fault needs one or two stills and a baseline six, so demos and tests take them sooner
    snapshot_interval: float | None = None


def _bin(name: str) -> str:
    """A console script of ours next to this interpreter, else from PATH."""
    here = Path(sys.executable).parent / name
    if here.exists():
        return str(here)
    found = shutil.which(name)
    if not found:
        raise StackError(f"{name} not found: install sharpeyes (pip install -e .)")
    return found


def _command(name: str, module: str) -> list[str]:
    """A console script of ours, else its module run by this interpreter (a checkout whose console
    scripts were installed before the component existed)."""
    try:
        return [_bin(name)]
    except StackError:
        return [sys.executable, "-m", module]


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


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the process that started the stack dies, even by
    SIGKILL (a demo killed at a timeout would otherwise leave Prometheus and the simulator running
    in their own sessions). Linux only; elsewhere the stack's own stop() is all there is."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


PR_SET_PDEATHSIG = 1


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
                                         start_new_session=True, preexec_fn=_die_with_parent)

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
        self.recording_config = w / "recording.yml"
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
        if self.opts.fresh:
            for sub in ("prometheus-data", "alertmanager-data", "tickets.sqlite3", "tickets.sqlite3-wal",
                        "tickets.sqlite3-shm", "recording.sqlite3", "recording.sqlite3-wal", "recording.sqlite3-shm"):
                p = w / sub
                if p.is_dir():
                    shutil.rmtree(p)
                elif p.exists():
                    p.unlink()
        self._inventory_subset()
        if self.opts.device_ports != (161, 80, 554):
            self._device_ports()
        if not self.secrets_file.exists():
            from sharpeyes.simulator.secrets import write_demo

            write_demo(self.secrets_file)  # random demo credentials, shared by simulator and exporter
        try:
            write_exporter_config(self.secrets_file, self.exporter_config, snmp_port=self.opts.device_ports[0])
        except ExporterConfigError as exc:
            raise StackError(f"exporter config: {exc}") from None
        for path in (self.tickets_token_file, self.webhook_token_file):
            if not path.exists():
                path.write_text(secrets.token_urlsafe(24) + "\n")
                path.chmod(0o600)
        (w / "tickets.yaml").write_text(self._tickets_config(), encoding="utf-8")
        self.recording_config.write_text(self._recording_config(), encoding="utf-8")
        self._run([_bin("sharpeyes-alerts"), "build", "--out", str(self.alerts_dir), "--group-wait", "2s",
                   "--group-interval", "5s", "--repeat-interval", "1h",
                   "--tickets-url", f"{self.url('tickets')}/api/v1/alertmanager",
                   "--tickets-credentials-file", str(self.webhook_token_file),
                   "--stills-base-url", self.url("exporter"),
                   "--for-scale", str(self.opts.for_scale)], "sharpeyes-alerts build")
        exporter = f"{LOCALHOST}:{self.opts.ports.exporter}"
        self._run([_bin("sharpeyes-exporter"), "promconfig", "--exporter", exporter,
                   "--tickets", f"{LOCALHOST}:{self.opts.ports.tickets}",
                   "--recording", f"{LOCALHOST}:{self.opts.ports.recording}",
                   "--interval-scale", str(self.opts.interval_scale),
                   *(("--module-interval", f"snapshot={self.opts.snapshot_interval:g}s")
                     if self.opts.snapshot_interval else ()),
                   "--rules", str(self.alerts_dir / "sharpeyes-recording.yml"),
                   "--rules", str(self.alerts_dir / "sharpeyes-rules.yml"),
                   "--alertmanager", self.url("alertmanager"), "--out", str(w / "prometheus.yml"),
                   *(f"--remote-write={url}" for url in self.opts.remote_write)],
                  "sharpeyes-exporter promconfig")

    def _device_ports(self) -> None:
        """Move the cameras' ONVIF/RTSP ports off 80/554 in the inventory (SNMP: the exporter config)."""
        from sharpeyes.inventory import load_inventory
        from sharpeyes.inventory.writer import write_inventory

        _, onvif, rtsp = self.opts.device_ports
        inv = load_inventory(self.inventory_dir)
        for dev in inv.devices.values():
            if dev.kind == "camera":
                dev.onvif_port, dev.rtsp_port = onvif, rtsp
        shutil.rmtree(self.inventory_dir)
        write_inventory(inv, self.inventory_dir)

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
            # compressed like the scrapes; min_uptime stays above Prometheus' 1 m re-send of firing alerts
            f"alertmanager: {{urls: ['{self.url('alertmanager')}'], min_uptime: 70s,"
            f" reconcile_interval: {max(5, round(120 * self.opts.interval_scale))}s}}",
            f"inventory: {self.inventory_dir}",
            f"web: {{base_url: '{self.url('tickets')}', prometheus_url: '{self.url('prometheus')}',"
            f" data_dir: '{w / 'tickets-data'}'}}",
            "tokens:",
            f"  - {{name: district-centre, role: district, token_file: {self.tickets_token_file}}}",
            f"  - {{name: alertmanager, role: webhook, token_file: {self.webhook_token_file}}}",
            "",
        ])

    @property
    def recording_interval(self) -> int:
        """Seconds between the recording collector's rounds: hourly in production, compressed like
        the scrape intervals here (at least 15 s, time for a round of the whole district)."""
        return max(15, round(60 * self.opts.interval_scale))

    def _recording_config(self) -> str:
        w, every = self.opts.workdir, self.recording_interval
        return "\n".join([
            "# generated by the sharpeyes demo stack: the recording collector asks the simulated recorders",
            f"db: sqlite:///{w / 'recording.sqlite3'}",
            f"interval: {every}s",
            f"deadline: {every}s",
            "request_timeout: 10s",
            f"port: {self.opts.device_ports[1]}",  # the simulator's recorders answer on the ONVIF port
            f"secrets_file: {self.secrets_file}",
            "",
        ])

    def web_accounts(self, accounts: list[tuple[str, str, str]]) -> Path:
        """Create web app accounts (username, role, contractor) with random passwords; they are written
        to ``web-logins.txt`` (mode 0600) in the work directory, never printed. Returns that file."""
        out = self.opts.workdir / "web-logins.txt"
        lines = []
        for username, role, contractor in accounts:
            password = secrets.token_urlsafe(12)
            argv = [_bin("sharpeyes-tickets"), "user", "add", "--config.file", str(self.opts.workdir / "tickets.yaml"),
                    "--username", username, "--role", role, "--password-stdin",
                    *(("--contractor", contractor) if contractor else ())]
            proc = subprocess.run(argv, input=password + "\n", capture_output=True, text=True, check=False)
            if proc.returncode != 0 and "exists" not in proc.stderr:
                raise StackError(f"web account {username}: {proc.stderr.strip()}")
            if proc.returncode == 0:
                lines.append(f"{role}\t{username}\t{password}\n")
        if lines:
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write("# role\tusername\tpassword — sharpeyes demo web app logins\n" + "".join(lines))
        return out

    def _run(self, argv: list[str], what: str) -> None:
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            lines = [ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
            raise StackError(f"{what} failed: {lines[-1] if lines else f'exit status {proc.returncode}'}")

    # --- processes ----------------------------------------------------------------------------
    def _processes(self) -> list[Process]:
        w, p = self.opts.workdir, self.opts.ports
        prometheus = _system_bin("prometheus", package="prometheus")
        alertmanager = _system_bin("prometheus-alertmanager", "alertmanager", package="prometheus-alertmanager")
        return [
            Process("simulator", [_bin("sharpeyes-sim"), "run", "--inventory", str(self.inventory_dir),
                                  "--web.listen-address", f"{LOCALHOST}:{p.control}",
                                  "--secrets", str(self.secrets_file),
                                  "--nft-table", self.opts.nft_table, *self._sim_port_args(),
                                  "--recorder-history", f"{RECORDER_HISTORY_DAYS}d",
                                  *self._trap_args("simulator")],
                    f"{self.url('control')}/api/health", self.logs / "simulator.log"),
            Process("exporter", [_bin("sharpeyes-exporter"), "--inventory", str(self.inventory_dir),
                                 "--config.file", str(self.exporter_config),
                                 "--discovery.metrics-file", str(w / "discovery" / "metrics.prom"),
                                 "--web.listen-address", f"{LOCALHOST}:{p.exporter}",
                                 *self._trap_args("exporter")],
                    f"{self.url('exporter')}/-/healthy", self.logs / "exporter.log"),
            Process("tickets", [_bin("sharpeyes-tickets"), "serve", "--config.file", str(w / "tickets.yaml")],
                    f"{self.url('tickets')}/healthz", self.logs / "tickets.log"),
            Process("recording", [*_command("sharpeyes-recording", "sharpeyes.recording.cli"),
                                  "--config.file", str(self.recording_config), "--inventory", str(self.inventory_dir),
                                  "serve", "--web.listen-address", f"{LOCALHOST}:{p.recording}"],
                    f"{self.url('recording')}/metrics", self.logs / "recording.log"),
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

    def _trap_args(self, component: str) -> list[str]:
        port = self.opts.traps_port
        if port is None:
            return []
        if component == "simulator":
            return ["--traps.target", f"{LOCALHOST}:{port}"]
        return ["--traps.listen-address", f"{LOCALHOST}:{port}", "--alertmanager.url", self.url("alertmanager")]

    def _sim_port_args(self) -> list[str]:
        if self.opts.device_ports == (161, 80, 554):
            return []
        snmp, onvif, rtsp = self.opts.device_ports
        return ["--snmp-port", str(snmp), "--onvif-port", str(onvif), "--rtsp-port", str(rtsp)]

    def check_ports(self) -> None:
        names = {"control": "simulator control API", "exporter": "exporter", "tickets": "ticket service",
                 "alertmanager": "Alertmanager", "prometheus": "Prometheus", "recording": "recording collector"}
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

    # --- video quality diagnosis: the stills an image-fault ticket links ---------------------------
    def ticket(self, ticket_id: int) -> dict[str, Any]:
        """One ticket with its alerts (labels, annotations) from the tickets API."""
        return dict(http_json(f"{self.url('tickets')}/api/v1/tickets/{ticket_id}", token=self.tickets_token))

    def ticket_stills(self, ticket_id: int) -> list[tuple[str, str, str, int]]:
        """(fault, kind, url, bytes) for each still an image-fault alert of the ticket links (kind ``still_url``
        or ``reference_url``); bytes is the size of the JPEG fetched from that URL, 0 if it was not one."""
        out: list[tuple[str, str, str, int]] = []
        for alert in self.ticket(ticket_id)["alerts"]:
            for kind in ("still_url", "reference_url"):
                url = alert["annotations"].get(kind)
                if url and all(url != u for _, _, u, _ in out):
                    out.append((alert["labels"].get("fault", ""), kind, url, _jpeg_size(url)))
        return out

    def wait_for(self, what: str, condition: Any, timeout: float, every: float = 1.0) -> Any:
        """Poll ``condition()`` until it returns something truthy; StackError after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            result = condition()
            if result:
                return result
            if time.monotonic() > deadline:
                raise StackError(f"timed out after {timeout:.0f} s waiting for {what}\n{self.diagnosis()}")
            time.sleep(every)

    def diagnosis(self, lines: int = 3) -> str:
        """Each component's state and last log lines: what a failed wait shows (the logs hold no secret)."""
        out = []
        for p in self.processes:
            rc = p.proc.poll() if p.proc is not None else None
            out.append(f"  {p.name}: {'running' if rc is None else f'exited with status {rc}'} (log: {p.log})")
            try:
                tail = p.log.read_text(errors="replace").splitlines()[-lines:]
            except OSError:
                tail = []
            out += [f"    | {ln[:300]}" for ln in tail]
        return "\n".join(out)


def _jpeg_size(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            body = resp.read()
            ctype = resp.headers.get("Content-Type", "")
    except (urllib.error.URLError, OSError):
        return 0
    return len(body) if ctype.startswith("image/jpeg") and body[:2] == b"\xff\xd8" else 0


@contextmanager
def running(opts: StackOptions) -> Iterator[Stack]:
    with Stack(opts) as stack:
        yield stack
