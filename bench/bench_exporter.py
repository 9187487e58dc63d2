"""sharpeyes-exporter vs Prometheus' snmp_exporter + blackbox_exporter, one district cycle, one run.

    python bench/bench_exporter.py [--cycles 3] [--dead 0.10] [--concurrency 200] [--soak 60]
                                   [--inventory inventory/sample/fengquan] [--no-theirs]

Method (printed again at the end of the run):
- starts the simulator for the whole inventory (``sharpeyes-sim run``, its own control port and
  nftables table), our exporter (``sharpeyes-exporter`` with the simulator's secrets via
  ``SHARPEYES_SECRETS``), and the Debian ``prometheus-snmp-exporter`` (bench/snmp_exporter/snmp.yml,
  numeric OIDs, secrets filled into a temporary copy) and ``prometheus-blackbox-exporter``
  (bench/snmp_exporter/blackbox.yml), all as child processes on free loopback ports;
- one CYCLE is 30 s of Prometheus work compressed: every active device's ``icmp`` twice (15 s
  interval), every camera's ``snmp_camera`` and ``rtsp``, every switch's ``snmp_switch`` (30 s), with
  Prometheus' X-Prometheus-Scrape-Timeout-Seconds of each job (promconfig defaults); ONVIF (5 min
  interval) for 1/10 of the cameras (a different tenth each cycle), run as a separate phase
  after the like-for-like one, ours only (the Go exporters have no ONVIF);
- theirs does the same work: blackbox ``icmp`` (one echo per probe; ours sends 3) and ``tcp_rtsp``
  (a TCP connect; ours sends RTSP OPTIONS), snmp_exporter ``cam_v3|cam_v2c`` (one GET of the system
  group) and ``huawei_v3|h3c_v2c`` (sysUpTime + bulk walks of the 8 IF-MIB columns, ifName and the
  vendor optics columns: snmp_exporter walks whole columns, ours GETs the inventory's ports);
- the load driver (aiohttp, this process) fires the cycle's scrapes in a shuffled order with at
  most ``--concurrency`` scrapes of live targets in flight; scrapes of dead targets do not take a
  slot (in Prometheus every target has its own scrape loop: a timing-out target never delays the
  others);
- exporter CPU = utime+stime of the exporter process(es) from /proc/<pid>/stat before/after the
  cycle (HTTP serving and rendering included; theirs = snmp_exporter + blackbox_exporter); RSS =
  VmRSS after the cycle (peak VmHWM reported too); latency = client-side per scrape; wall = first
  request to last response (``live wall``: to the last response of a live target);
- exporters run one after the other (never both at once), cycle by cycle; cycle 1 is cold
  (sessions, v3 engine discovery, switch walks, imports), later cycles are steady;
- the dead runs inject ``power_loss`` through the simulator control API for 10 % of the active
  devices (cascades counted: a dead switch's cameras count as dead; mix of cameras and switches),
  and clear it afterwards;
- ``--soak SECONDS`` then keeps running steady cycles against OUR exporter (every 5th with the dead
  set) and samples its RSS after each cycle: memory must stay flat (slope reported in MB/hour over
  the second half).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sharpeyes.contract import SAMPLE_DISTRICT  # noqa: E402
from sharpeyes.inventory import Inventory, load_inventory  # noqa: E402

HERE = Path(__file__).resolve().parent / "snmp_exporter"
CLK_TCK = os.sysconf("SC_CLK_TCK")
# Prometheus scrape timeouts of our jobs (exporters/promconfig.py defaults); sent to both exporters.
SCRAPE_TIMEOUT = {"icmp": 10.0, "rtsp": 10.0, "snmp_camera": 20.0, "snmp_switch": 25.0, "onvif": 60.0}
LIKE_FOR_LIKE = ("icmp", "snmp_camera", "snmp_switch", "rtsp")


# ----------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def proc_cpu(pid: int) -> float:
    """utime + stime of a process (all its threads), seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_mem(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) in MB."""
    rss = hwm = 0.0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) / 1024
    return rss, hwm


def http_get(url: str, timeout: float = 5) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (urllib.error.URLError, OSError):
        return 0, b""


def http_json(method: str, url: str, body: Any = None, timeout: float = 10) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
            return r.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw)
        except ValueError:
            return exc.code, raw.decode(errors="replace")


class Child:
    """A child process with its log in a temp dir; stopped with SIGTERM (then SIGKILL) by pid."""

    def __init__(self, name: str, argv: list[str], logdir: Path, env: dict[str, str] | None = None) -> None:
        self.name = name
        self.log = logdir / f"{name}.log"
        self._fh = open(self.log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(argv, stdout=self._fh, stderr=subprocess.STDOUT, cwd=ROOT,
                                     env={**os.environ, **(env or {})}, start_new_session=True)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def wait_until(self, ready: Any, what: str, limit: float = 120) -> None:
        end = time.monotonic() + limit
        while time.monotonic() < end:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited ({self.proc.returncode}) before {what}:\n{self.tail()}")
            if ready():
                return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name}: no {what} after {limit:.0f} s:\n{self.tail()}")

    def stop(self) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._fh.close()


# ----------------------------------------------------------------------------- work lists


@dataclass(frozen=True, slots=True)
class Scrape:
    module: str  # our module name (the like-for-like key for theirs too)
    device: str
    url_ours: str
    url_theirs: str | None  # None: no Go equivalent (onvif)


@dataclass
class Plan:
    base: list[Scrape]  # like-for-like, one 30 s-equivalent cycle
    onvif: list[Scrape]  # all cameras; a tenth per cycle
    counts: Counter[str] = field(default_factory=Counter)


def build_plan(inv: Inventory, ours: str, snmp: str, blackbox: str, icmp_per_cycle: int) -> Plan:
    q = urllib.parse.quote
    base: list[Scrape] = []
    onvif: list[Scrape] = []
    cam_module = {"cams-v3": "cam_v3", "cams-legacy": "cam_v2c"}
    sw_module = {"huawei": "huawei_v3", "h3c": "h3c_v2c"}
    for d in sorted(inv.active_devices(), key=lambda d: d.id):
        def ours_url(m: str, dev_id: str = d.id) -> str:
            return f"http://{ours}/probe?module={m}&target={q(dev_id)}"
        for _ in range(icmp_per_cycle):
            base.append(Scrape("icmp", d.id, ours_url("icmp"),
                               f"http://{blackbox}/probe?module=icmp&target={d.ip}"))
        if d.kind == "camera":
            base.append(Scrape("snmp_camera", d.id, ours_url("snmp_camera"),
                               f"http://{snmp}/snmp?module={cam_module[d.auth]}&target={d.ip}"))
            base.append(Scrape("rtsp", d.id, ours_url("rtsp"),
                               f"http://{blackbox}/probe?module=tcp_rtsp&target={d.ip}:{d.rtsp_port or 554}"))
            onvif.append(Scrape("onvif", d.id, ours_url("onvif"), None))
        elif d.kind == "switch":
            base.append(Scrape("snmp_switch", d.id, ours_url("snmp_switch"),
                               f"http://{snmp}/snmp?module={sw_module[d.vendor]}&target={d.ip}"))
    plan = Plan(base, onvif)
    plan.counts = Counter(s.module for s in base)
    return plan


def render_snmp_yml(secrets: dict[str, Any], out: Path) -> None:
    a = secrets["auths"]
    values = {
        "CAMS_LEGACY_COMMUNITY": a["cams-legacy"]["snmp"]["community"],
        "CAMS_V3_USERNAME": a["cams-v3"]["snmp"]["username"],
        "CAMS_V3_AUTH_PASSWORD": a["cams-v3"]["snmp"]["auth_password"],
        "CAMS_V3_PRIV_PASSWORD": a["cams-v3"]["snmp"]["priv_password"],
        "SWITCHES_V3_USERNAME": a["switches-v3"]["snmp"]["username"],
        "SWITCHES_V3_AUTH_PASSWORD": a["switches-v3"]["snmp"]["auth_password"],
        "SWITCHES_V3_PRIV_PASSWORD": a["switches-v3"]["snmp"]["priv_password"],
        "SWITCHES_V2C_COMMUNITY": a["switches-v2c"]["snmp"]["community"],
    }
    text = (HERE / "snmp.yml").read_text()
    text = re.sub(r"__([A-Z0-9_]+)__", lambda m: json.dumps(str(values[m.group(1)])), text)
    out.write_text(text)
    out.chmod(0o600)


# ----------------------------------------------------------------------------- load driver


@dataclass
class Result:
    wall: float = 0.0
    live_wall: float = 0.0
    cpu: float = 0.0
    rss: float = 0.0
    hwm: float = 0.0
    lat: list[float] = field(default_factory=list)
    lat_live: list[float] = field(default_factory=list)
    ok: int = 0
    n: int = 0
    bad: Counter[str] = field(default_factory=Counter)
    bad_devices: Counter[str] = field(default_factory=Counter)
    peak_in_flight: int = 0
    driver_cpu: float = 0.0

    def p(self, q: float, live: bool = False) -> float:
        xs = sorted(self.lat_live if live else self.lat)
        if not xs:
            return float("nan")
        return xs[min(len(xs) - 1, int(q * len(xs)))]


def _success(kind: str, status: int, body: bytes) -> bool:
    if status != 200:
        return False
    if kind == "snmp":  # snmp_exporter 0.21 has no probe_success; a failed walk is an HTTP 500
        return b"\nsysUpTime " in body
    return b"\nprobe_success 1" in body


async def drive(session: aiohttp.ClientSession, scrapes: list[tuple[str, str, str]], dead: set[str],
                concurrency: int) -> Result:
    """Fire (url, module, device) scrapes; at most ``concurrency`` live ones in flight."""
    res = Result(n=len(scrapes))
    sem = asyncio.Semaphore(concurrency)
    in_flight = 0
    start = time.perf_counter()
    last_live = start

    async def one(url: str, module: str, device: str) -> None:
        nonlocal in_flight, last_live
        is_dead = device in dead
        if not is_dead:
            await sem.acquire()
        in_flight += 1
        res.peak_in_flight = max(res.peak_in_flight, in_flight)
        t0 = time.perf_counter()
        try:
            headers = {"X-Prometheus-Scrape-Timeout-Seconds": f"{SCRAPE_TIMEOUT[module]:g}"}
            try:
                async with session.get(url, headers=headers,
                                       timeout=aiohttp.ClientTimeout(total=SCRAPE_TIMEOUT[module])) as r:
                    body = await r.read()
                    status = r.status
            except (TimeoutError, aiohttp.ClientError) as exc:
                status, body = 0, type(exc).__name__.encode()
            t1 = time.perf_counter()
            dt = t1 - t0
            res.lat.append(dt)
            kind = "snmp" if "/snmp?" in url else "probe"
            if _success(kind, status, body):
                res.ok += 1
            elif not is_dead:
                res.bad[f"{module}:{status}"] += 1
                res.bad_devices[device] += 1
            if not is_dead:
                res.lat_live.append(dt)
                last_live = max(last_live, t1)
        finally:
            in_flight -= 1
            if not is_dead:
                sem.release()

    tasks = [asyncio.create_task(one(*s)) for s in scrapes]
    await asyncio.gather(*tasks)
    end = time.perf_counter()
    res.wall = end - start
    res.live_wall = last_live - start
    return res


async def run_phase(pids: list[int], scrapes: list[tuple[str, str, str]], dead: set[str],
                    concurrency: int) -> Result:
    conn = aiohttp.TCPConnector(limit=0, force_close=False)
    async with aiohttp.ClientSession(connector=conn) as session:
        cpu0 = sum(proc_cpu(p) for p in pids)
        own0 = time.process_time()
        res = await drive(session, scrapes, dead, concurrency)
        res.cpu = sum(proc_cpu(p) for p in pids) - cpu0
        res.driver_cpu = time.process_time() - own0
    mems = [proc_mem(p) for p in pids]
    res.rss = sum(m[0] for m in mems)
    res.hwm = sum(m[1] for m in mems)
    return res


# ----------------------------------------------------------------------------- faults


def choose_dead(inv: Inventory, share: float, seed: int = 7) -> tuple[list[str], set[str]]:
    """Devices to power off so that ``share`` of the active devices is unreachable (cascades
    counted), a seeded mix of switches and cameras. Returns (fault targets, all dead ids)."""
    active = {d.id for d in inv.active_devices()}
    want = round(share * len(active))
    ids = sorted(active)
    random.Random(seed).shuffle(ids)
    targets: list[str] = []
    dead: set[str] = set()
    for dev_id in ids:
        if len(dead) >= want:
            break
        down = ({dev_id} | set(inv.topology.downstream(dev_id))) & active
        if down & dead or len(dead) + len(down) > want:
            continue
        if inv.devices[dev_id].role == "core" or inv.devices[dev_id].role == "aggregation":
            continue
        targets.append(dev_id)
        dead |= down
    return targets, dead


def inject(control: str, targets: Iterable[str]) -> None:
    for t in targets:
        status, body = http_json("POST", f"http://{control}/api/faults", {"type": "power_loss", "target": t})
        if status != 201:
            raise RuntimeError(f"fault power_loss {t}: {status} {body}")


def clear(control: str) -> None:
    http_json("DELETE", f"http://{control}/api/faults")


def network_dead(control: str) -> set[str]:
    status, body = http_json("GET", f"http://{control}/api/network")
    return set(body.get("dead", [])) if status == 200 and isinstance(body, dict) else set()


# ----------------------------------------------------------------------------- reporting


def fmt_row(label: str, r: Result | None) -> str:
    if r is None:
        return f"  {label:<28} {'-':>9} {'-':>8} {'-':>9} {'-':>8} {'-':>8} {'-':>8} {'-':>11}"
    return (f"  {label:<28} {r.cpu:9.2f} {r.wall:8.2f} {r.live_wall:9.2f} {r.p(0.99) * 1000:8.1f} "
            f"{r.p(0.99, live=True) * 1000:8.1f} {r.rss:8.0f} {r.ok:>5}/{r.n:<5}")


HEADER = (f"  {'':<28} {'CPU-s':>9} {'wall s':>8} {'live wall':>9} {'p99 ms':>8} {'p99live':>8} "
          f"{'RSS MB':>8} {'ok/scrapes':>11}")


def mean(rs: list[Result], attr: str) -> float:
    return statistics.fmean(getattr(r, attr) for r in rs) if rs else float("nan")


def merge(rs: list[Result]) -> Result | None:
    """Steady cycles averaged (CPU, wall, RSS) with latencies pooled."""
    if not rs:
        return None
    m = Result()
    for a in ("wall", "live_wall", "cpu", "rss"):
        setattr(m, a, mean(rs, a))
    m.hwm = max(r.hwm for r in rs)
    m.ok = round(mean(rs, "ok"))
    m.n = round(mean(rs, "n"))
    for r in rs:
        m.lat += r.lat
        m.lat_live += r.lat_live
        m.bad.update(r.bad)
    return m


# ----------------------------------------------------------------------------- main


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--inventory", default=str(SAMPLE_DISTRICT))
    p.add_argument("--cycles", type=int, default=3, help="cycles per condition (the first is cold)")
    p.add_argument("--dead", type=float, default=0.10, help="share of devices dead in the dead runs")
    p.add_argument("--concurrency", type=int, default=200, help="live scrapes in flight at most")
    p.add_argument("--icmp-per-cycle", type=int, default=2, help="icmp scrapes per target per cycle (15 s in 30 s)")
    p.add_argument("--onvif-share", type=float, default=0.1, help="cameras probed by ONVIF per cycle (30 s / 5 min)")
    p.add_argument("--soak", type=float, default=60, help="seconds of soak against our exporter (0: none)")
    p.add_argument("--no-theirs", action="store_true", help="skip the Go exporters")
    p.add_argument("--sim-control", help="use an already running simulator at HOST:PORT (default: start one)")
    p.add_argument("--profile", metavar="SVG", help="py-spy record our exporter during the steady cycles")
    p.add_argument("--keep-logs", action="store_true")
    return p.parse_args()


def main() -> int:
    args = parse_args()
    logdir = Path(tempfile.mkdtemp(prefix="bench-exporter-"))
    children: list[Child] = []
    inv = load_inventory(args.inventory)
    active = list(inv.active_devices())
    try:
        # --- simulator
        if args.sim_control:
            control = args.sim_control
        else:
            control = f"127.0.0.1:{free_port()}"
            sim = Child("simulator", [shutil.which("sharpeyes-sim") or "sharpeyes-sim", "run", "--inventory",
                                      args.inventory, "--web.listen-address", control,
                                      "--nft-table", f"sharpeyes_bench{os.getpid()}", "--log.level", "warn"],
                        logdir)
            children.append(sim)
            sim.wait_until(lambda: (http_json("GET", f"http://{control}/api/health")[1] or {}).get("ready")
                           if http_get(f"http://{control}/api/health", 1)[0] == 200 else False,
                           "control API ready")
        clear(control)
        secrets_path = ROOT / "var" / "sim-secrets.yaml"
        secrets = yaml.safe_load(secrets_path.read_text())

        # --- exporters
        ours = f"127.0.0.1:{free_port()}"
        exp = Child("sharpeyes-exporter",
                    [shutil.which("sharpeyes-exporter") or "sharpeyes-exporter", "--web.listen-address", ours,
                     "--inventory", args.inventory, "--log.level", "warn"],
                    logdir, {"SHARPEYES_SECRETS": str(secrets_path)})
        children.append(exp)
        exp.wait_until(lambda: http_get(f"http://{ours}/-/ready", 1)[0] == 200, "/-/ready")
        time.sleep(2)  # let the inventory load settle before the idle sample
        rss_idle = proc_mem(exp.pid)[0]
        print(f"our exporter idle (inventory loaded, nothing probed): RSS {rss_idle:.0f} MB", flush=True)
        theirs_pids: list[int] = []
        snmp = blackbox = "127.0.0.1:1"
        if not args.no_theirs:
            snmp_yml = logdir / "snmp.yml"
            render_snmp_yml(secrets, snmp_yml)
            snmp = f"127.0.0.1:{free_port()}"
            blackbox = f"127.0.0.1:{free_port()}"
            se = Child("snmp_exporter", ["prometheus-snmp-exporter", "--config.file", str(snmp_yml),
                                         "--web.listen-address", snmp, "--log.level", "error"], logdir)
            bb = Child("blackbox_exporter", ["prometheus-blackbox-exporter", "--config.file",
                                             str(HERE / "blackbox.yml"), "--web.listen-address", blackbox,
                                             "--log.level", "error"], logdir)
            children += [se, bb]
            se.wait_until(lambda: http_get(f"http://{snmp}/", 1)[0] == 200, "HTTP")
            bb.wait_until(lambda: http_get(f"http://{blackbox}/", 1)[0] == 200, "HTTP")
            theirs_pids = [se.pid, bb.pid]

        plan = build_plan(inv, ours, snmp, blackbox, args.icmp_per_cycle)
        n_onvif = max(1, round(args.onvif_share * len(plan.onvif)))
        targets, dead_ids = choose_dead(inv, args.dead)
        rng = random.Random(1)

        def cycle_lists(cycle: int) -> tuple[list[Scrape], list[Scrape]]:
            base = plan.base[:]
            rng.shuffle(base)
            k = cycle % max(1, round(1 / args.onvif_share))
            onv = [s for i, s in enumerate(plan.onvif) if i % max(1, round(1 / args.onvif_share)) == k][:n_onvif]
            return base, onv

        results: dict[tuple[str, str], list[Result]] = defaultdict(list)  # (condition, who) -> per cycle
        sim_cpu: dict[str, float] = {}
        print(f"sharpeyes bench: {len(active)} active devices "
              f"({sum(d.kind == 'camera' for d in active)} cameras, {sum(d.kind == 'switch' for d in active)} "
              f"switches); per cycle: {dict(plan.counts)} + onvif {n_onvif}; live concurrency "
              f"{args.concurrency}; logs {logdir}", flush=True)

        profiler: subprocess.Popen[bytes] | None = None
        cycle_no = 0
        for cond, share in (("0% dead", 0.0), (f"{args.dead:.0%} dead", args.dead)):
            dead: set[str] = set()
            if share:
                inject(control, targets)
                time.sleep(0.5)
                dead = network_dead(control) or dead_ids
                print(f"[{cond}] power_loss on {len(targets)} devices -> {len(dead)} unreachable "
                      f"({len(dead) / len(active):.1%})", flush=True)
            sim_pid = children[0].pid if not args.sim_control else None
            sim0 = proc_cpu(sim_pid) if sim_pid else 0.0
            for c in range(args.cycles):
                base, onv = cycle_lists(cycle_no)
                cycle_no += 1
                if args.profile and share == 0 and c == 1 and profiler is None:
                    profiler = subprocess.Popen(["py-spy", "record", "-o", args.profile, "--pid", str(exp.pid),
                                                 "--rate", "200", "--nonblocking",
                                                 *(("--format", "raw") if not args.profile.endswith(".svg")
                                                   else ())],
                                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    time.sleep(1)
                r_ours = asyncio.run(run_phase([exp.pid], [(s.url_ours, s.module, s.device) for s in base],
                                               dead, args.concurrency))
                r_onvif = asyncio.run(run_phase([exp.pid], [(s.url_ours, s.module, s.device) for s in onv],
                                                dead, args.concurrency))
                results[(cond, "ours")].append(r_ours)
                results[(cond, "onvif")].append(r_onvif)
                line = (f"[{cond}] cycle {c + 1}: ours {r_ours.cpu:.2f} CPU-s wall {r_ours.wall:.2f} s "
                        f"(live {r_ours.live_wall:.2f}) ok {r_ours.ok}/{r_ours.n} RSS {r_ours.rss:.0f} MB; "
                        f"onvif {r_onvif.cpu:.2f} CPU-s ok {r_onvif.ok}/{r_onvif.n}")
                if theirs_pids:
                    r_theirs = asyncio.run(run_phase(theirs_pids,
                                                     [(s.url_theirs, s.module, s.device) for s in base
                                                      if s.url_theirs], dead, args.concurrency))
                    results[(cond, "theirs")].append(r_theirs)
                    line += (f"; theirs {r_theirs.cpu:.2f} CPU-s wall {r_theirs.wall:.2f} s "
                             f"(live {r_theirs.live_wall:.2f}) ok {r_theirs.ok}/{r_theirs.n} "
                             f"RSS {r_theirs.rss:.0f} MB")
                bad = r_ours.bad + (results[(cond, 'theirs')][-1].bad if theirs_pids else Counter())
                if bad:
                    bad_dev = r_ours.bad_devices + (results[(cond, "theirs")][-1].bad_devices
                                                    if theirs_pids else Counter())
                    line += (f"; live failures {dict(bad.most_common(6))} on "
                             f"{', '.join(d for d, _ in bad_dev.most_common(5))}")
                line += f"; driver CPU {r_ours.driver_cpu:.1f} s"
                print(line, flush=True)
            if sim_pid:
                sim_cpu[cond] = proc_cpu(sim_pid) - sim0
            if share:
                clear(control)
                time.sleep(0.5)
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)
            profiler.wait(30)

        # --- table
        print()
        print("=" * 104)
        print(f"One 30 s-equivalent district cycle: {len(active)} devices, "
              f"{sum(plan.counts.values())} like-for-like scrapes (icmp x{args.icmp_per_cycle}, snmp_camera, "
              f"rtsp/tcp, snmp_switch); live concurrency {args.concurrency}")
        print(HEADER)
        ratios: dict[str, tuple[float, float]] = {}
        for cond in ("0% dead", f"{args.dead:.0%} dead"):
            print(f" {cond}")
            for who, label in (("ours", "sharpeyes-exporter"), ("theirs", "snmp_exporter+blackbox")):
                rs = results.get((cond, who), [])
                print(fmt_row(f"{label} cold", rs[0] if rs else None))
                print(fmt_row(f"{label} steady", merge(rs[1:])))
            o, t = results.get((cond, "ours"), []), results.get((cond, "theirs"), [])
            if o and t:
                cold = o[0].cpu / t[0].cpu if t[0].cpu else float("inf")
                steady = mean(o[1:], "cpu") / mean(t[1:], "cpu") if len(t) > 1 else float("nan")
                ratios[cond] = (cold, steady)
                print(f"  {'CPU ratio ours/theirs':<28} cold {cold:.2f}x   steady {steady:.2f}x")
            onv_rs = results.get((cond, "onvif"), [])
            if onv_rs:
                print(fmt_row(f"onvif (ours) cold, {n_onvif} cams", onv_rs[0]))
                print(fmt_row("onvif (ours) steady", merge(onv_rs[1:])))
        print("=" * 104)
        if sim_cpu:
            print("simulator CPU-s per condition (all cycles, both exporters): "
                  + ", ".join(f"{k} {v:.1f}" for k, v in sim_cpu.items()))

        # --- soak
        soak_max = 0.0
        slope = float("nan")
        rss_end = 0.0
        if args.soak > 0:
            print(f"\nsoak: {args.soak:.0f} s of back-to-back steady cycles against our exporter "
                  f"(every 5th with {len(dead_ids)} dead devices)", flush=True)
            samples: list[tuple[float, float]] = []
            t_end = time.monotonic() + args.soak
            t0 = time.monotonic()
            k = 0
            while time.monotonic() < t_end:
                base, onv = cycle_lists(cycle_no)
                cycle_no += 1
                with_dead = k % 5 == 4
                if with_dead:
                    inject(control, targets)
                scr = [(s.url_ours, s.module, s.device) for s in base + onv]
                r = asyncio.run(run_phase([exp.pid], scr, dead_ids if with_dead else set(), args.concurrency))
                if with_dead:
                    clear(control)
                samples.append((time.monotonic() - t0, r.rss))
                k += 1
            rss = [s[1] for s in samples]
            soak_max = max(rss, default=0.0)
            print("soak RSS per cycle (MB): " + " ".join(f"{x:.0f}" for x in rss))
            half = samples[len(samples) // 2:]
            slope = 0.0
            rss_end = rss[-1] if rss else 0.0
            if len(half) >= 2:
                xs, ys = [s[0] for s in half], [s[1] for s in half]
                mx, my = statistics.fmean(xs), statistics.fmean(ys)
                den = sum((x - mx) ** 2 for x in xs)
                slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den * 3600 if den else 0.0
            print(f"soak: {len(samples)} cycles in {samples[-1][0] if samples else 0:.0f} s; RSS first "
                  f"{rss[0] if rss else 0:.0f} MB, last {rss[-1] if rss else 0:.0f} MB, "
                  f"max {max(rss, default=0):.0f} MB, "
                  f"VmHWM {proc_mem(exp.pid)[1]:.0f} MB; slope over the second half {slope:+.1f} MB/hour")

        # --- verdict
        print()
        o0 = results.get(("0% dead", "ours"), [])
        od = results.get((f"{args.dead:.0%} dead", "ours"), [])
        rss_max = max((r.rss for rs in results.values() for r in rs if rs is not None), default=0)
        rss_ours = max((r.rss for k, rs in results.items() if k[1] in ("ours", "onvif") for r in rs), default=0)
        rss_ours = max(rss_ours, soak_max)
        print("targets:")
        for cond, (cold, steady) in ratios.items():
            print(f"  CPU ours/theirs <= 0.5x [{cond}]: cold {cold:.2f}x, steady {steady:.2f}x -> "
                  f"{'met' if steady <= 0.5 else 'MISSED'} (steady)")
        for cond in ("0% dead", f"{args.dead:.0%} dead"):
            mo, mt = merge(results.get((cond, "ours"), [])[1:]), merge(results.get((cond, "theirs"), [])[1:])
            if mo and mt:
                po, pt = mo.p(0.99, live=True) * 1000, mt.p(0.99, live=True) * 1000
                print(f"  live p99 ours <= theirs [{cond}]: {po:.1f} ms vs {pt:.1f} ms -> "
                      f"{'met' if po <= pt else 'MISSED'}")
        onv_steady = [r for k, rs in results.items() if k[1] == "onvif" for r in rs[1:]]
        if onv_steady and sum(r.n for r in onv_steady):
            ms = sum(r.cpu for r in onv_steady) / sum(r.n for r in onv_steady) * 1000
            print(f"  ONVIF <= 3 ms CPU per probe (steady, HTTP serving included): {ms:.2f} ms -> "
                  f"{'met' if ms <= 3 else 'MISSED'}")
        cyc = merge(results.get(("0% dead", "ours"), [])[1:])
        if cyc:
            print(f"  cost per device: {cyc.cpu / len(active):.5f} CPU-s per 30 s cycle (like-for-like, 0% dead)")
        if args.soak > 0:
            per_dev = (rss_end - rss_idle) / len(active) * 1024
            print(f"  RSS <= 150 MB after the soak: {rss_end:.0f} MB (idle {rss_idle:.0f} MB, "
                  f"{per_dev:.1f} kB per device above idle) -> {'met' if rss_end <= 150 else 'MISSED'}")
            print(f"  flat second half (< 1 MB/h): {slope:+.1f} MB/hour over {args.soak:.0f} s -> "
                  f"{'met' if abs(slope) < 1 else 'MISSED'}")
        if od:
            w = max(r.wall for r in od[1:] or od)
            lw = max(r.live_wall for r in od[1:] or od)
            print(f"  cycle wall <= 10 s with {args.dead:.0%} dead: {w:.1f} s (live targets done at {lw:.1f} s) -> "
                  f"{'met' if w <= 10 else 'MISSED'}")
        if o0:
            print(f"  cycle wall with 0% dead: {max(r.wall for r in o0[1:] or o0):.1f} s")
        print(f"  RSS: ours max {rss_ours:.0f} MB (soak included; all processes max {rss_max:.0f} MB)")
        return 0
    finally:
        for ch in reversed(children):
            ch.stop()
        if not args.keep_logs:
            shutil.rmtree(logdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
