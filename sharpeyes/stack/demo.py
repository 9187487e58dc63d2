"""``sharpeyes-demo``: the simulated district monitored end to end, with a scripted scenario.

Starts the stack (simulator, exporter, ticket service, recording collector, Alertmanager, Prometheus) on
loopback, prints where everything runs, then plays a fiber cut, a camera power loss, a stalled encoder, a
frozen picture (an image fault found by video quality diagnosis) and a recorder's disk failure, shows the
tickets appearing and where to see the frozen camera's last and reference stills, repairs everything,
shows the tickets resolving and the recording gap the disk failure left. Ctrl-C stops everything.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from sharpeyes.cli import UserError
from sharpeyes.contract import DEFAULT_PORTS, JOB_RECORDING, RECORDING_GAP_TODAY, SAMPLE_DISTRICT, VQD_CHECKS
from sharpeyes.inventory import load_inventory
from sharpeyes.inventory.model import Inventory
from sharpeyes.inventory.recording import RECORDER_KINDS, recorded_cameras
from sharpeyes.inventory.stats import pad
from sharpeyes.output import StatusLine
from sharpeyes.stack.stack import LOCALHOST, Ports, Stack, StackError, StackOptions

SAMPLE = SAMPLE_DISTRICT


@dataclass(frozen=True)
class Step:
    fault: str
    target: str
    root_key: str
    what_zh: str
    what: str


def say(msg: str = "") -> None:
    print(msg, flush=True)


def pick_scenario(inv: Inventory) -> list[Step]:
    """A fiber cut of a village access switch, a camera power loss, a stalled encoder and a frozen
    picture elsewhere (the image fault: online, streaming, and useless)."""
    topo = inv.topology
    links = sorted((lk for lk in inv.links.values() if lk.active and lk.build == "district"), key=lambda x: x.id)
    if not links:
        raise UserError("the inventory has no village access fiber link to cut")
    link = links[0]
    downstream = topo.downstream(link.id)
    cams = sorted(d.id for d in inv.active_devices() if d.kind == "camera" and d.id not in downstream
                  and d.funding == "sharp_eyes")
    if len(cams) < 3:
        raise UserError("the inventory has too few cameras outside the cut link for the demo")
    down_cams = sum(1 for d in downstream if inv.devices[d].kind == "camera")
    power, stall, frozen = cams[0], cams[len(cams) // 2], cams[-1]
    disk = _recorder_step(inv, {*downstream, power, stall, frozen})
    return [
        Step("encoder_stalled", stall, f"device:{stall}", f"摄像机 {stall} 编码器卡死(在线但无码流)",
             f"camera {stall}: encoder stalled (online, no stream)"),
        Step("fiber_cut", link.id, f"fiber_link:{link.id}",
             f"光纤 {link.id} 中断(下游 {down_cams} 台摄像机)", f"fiber {link.id} cut ({down_cams} cameras behind it)"),
        Step("power_loss", power, f"device:{power}", f"摄像机 {power} 断电", f"camera {power}: power loss"),
        Step("frozen", frozen, f"device:{frozen}", f"摄像机 {frozen} 画面冻结(在线、有码流,画面不动;两张抓图后判定)",
             f"camera {frozen}: picture frozen (online and streaming, the picture stands still; "
             "judged after two stills)"),
        *([disk] if disk else []),
    ]


def _recorder_step(inv: Inventory, affected: set[str]) -> Step | None:
    """A recorder's disks fail: one ticket for the recorder, and a recording gap for every camera it
    records. The recorder whose cameras the other faults leave alone, the smallest of those."""
    recs = [(len(cams & affected), len(cams), d.id) for d in inv.active_devices() if d.kind in RECORDER_KINDS
            for cams in [{c.id for c in recorded_cameras(inv, d.id)}] if cams]
    if not recs:
        return None
    _, n, rec = min(recs)
    return Step("disk_failed", rec, f"device:{rec}", f"录像机 {rec} 硬盘故障(停止录像,{n} 台摄像机)",
                f"recorder {rec}: disks failed (stops recording {n} cameras)")


def gap_query(recorder: str) -> str:
    """The cameras of a recorder that miss recorded video today (seconds). Recorders list files to the
    whole second, so the open end of the latest window reads as under a second missing on every camera:
    that is resolution, not a gap (the collector's own join tolerance is 2 s)."""
    return f'{RECORDING_GAP_TODAY}{{job="{JOB_RECORDING}", recorder="{recorder}"}} > 2'


def graph_url(stack: Stack, promql: str) -> str:
    return f"{stack.url('prometheus')}/graph?g0.expr={urllib.parse.quote(promql)}&g0.tab=1"


def show_recording_gap(stack: Stack, steps: list[Step], timeout: float) -> None:
    """After the repairs: the recording gap the recorder's disk failure left, and where to see it."""
    step = next((s for s in steps if s.fault == "disk_failed"), None)
    if step is None:
        return
    query = gap_query(step.target)
    rows = stack.wait_for("the recording gap in Prometheus", lambda: stack.query(query), timeout, every=2)
    worst = max(rows, key=lambda r: float(r["value"][1]))
    say("\n录像缺失 / recording gap:")
    say(f"  录像完整率 recording gap: {len(rows)} 台摄像机 cameras of {step.target} 今日缺录 missed video today, "
        f"最长 longest {worst['metric']['device']} {float(worst['value'][1]):.0f} s")
    say(f"  查看 see: {graph_url(stack, query)}")
    say(f"  录像采集 recording collector: {stack.url('recording')}/metrics  "
        f"(Grafana: 录像 / Recording dashboard; 月报 monthly report --recording-db)")


def print_urls(stack: Stack) -> None:
    say("运行中 / running:")
    for label, comp, path in (
        ("Prometheus", "prometheus", "/alerts"),
        ("Alertmanager", "alertmanager", "/#/alerts"),
        ("工单 API / tickets API", "tickets", "/api/v1/tickets  (token: " + str(stack.tickets_token_file) + ")"),
        ("导出器 / exporter", "exporter", "/"),
        ("录像采集 / recording collector", "recording", "/metrics"),
        ("模拟器控制 / simulator control", "control", "/api/faults"),
    ):
        say(f"  {pad(label, 34)}{stack.url(comp)}{path}")
    if stack.opts.traps_port is not None:
        say(f"  {pad('SNMP Trap 接收 / trap receiver', 34)}udp://{LOCALHOST}:{stack.opts.traps_port}"
            "  (linkDown → 探测确认 confirming probe → Alertmanager)")
    say(f"  {pad('日志 / logs', 34)}{stack.logs}")


def wait_monitored(stack: Stack, n_devices: int, timeout: float) -> None:
    # one line rewritten in place on a terminal; in a log, a line only when the count changes
    status = StatusLine(sys.stdout)

    def seen() -> bool:
        r = stack.query('count(probe_success{job="sharpeyes_icmp"} == 1)')
        up = int(float(r[0]["value"][1])) if r else 0
        status.update(f"  已探测在线设备 devices seen up: {up}/{n_devices}")
        return up >= n_devices * 0.98 and bool(stack.query("count(sharpeyes:device_up)"))

    try:
        stack.wait_for("every device to be probed", seen, timeout, every=2)
    finally:
        status.done()


def describe(t: dict[str, Any]) -> str:
    devs = t.get("devices") or []
    return (f"#{t['id']} [{t['state']}] {t['title_zh'] or t['title']} — {t['contractor']} "
            f"({len(devs)} 台设备 devices)")


IMAGE_FAULTS = frozenset(VQD_CHECKS)


def show_stills(stack: Stack, t: dict[str, Any]) -> None:
    """Where to look at an image-fault ticket: its page in the web app and the stills its alert links."""
    say(f"    维保工单页面 ticket page: {stack.url('tickets')}/app/t/{t['id']}  (API: {stack.url('tickets')}"
        f"/api/v1/tickets/{t['id']})")
    for fault, kind, url, size in stack.ticket_stills(int(t["id"])):
        what = "最新抓图 last still" if kind == "still_url" else "参考画面 reference still"
        got = f"{size // 1024} KiB JPEG" if size else "不可取 not reachable"
        say(f"    {pad(what, 26)}{url}  (fault={fault}, {got})")


def play(stack: Stack, steps: list[Step], timeout: float) -> None:
    say("\n场景 / scenario:")
    for step in steps:
        stack.fault(step.fault, step.target)
        say(f"  故障注入 fault injected: {step.what_zh} / {step.what}")
    pending = {s.root_key: s for s in steps}
    seen: dict[str, dict[str, Any]] = {}

    def tickets_opened() -> bool:
        for t in stack.tickets(state="open,acknowledged,in_progress"):
            if t["root_key"] in pending and t["root_key"] not in seen:
                seen[t["root_key"]] = t
                say(f"  工单生成 ticket opened: {describe(t)}")
                if pending[t["root_key"]].fault in IMAGE_FAULTS:
                    show_stills(stack, t)
        return len(seen) == len(pending)

    stack.wait_for("a ticket for every fault", tickets_opened, timeout, every=2)
    others = [t for t in stack.tickets(state="open,acknowledged,in_progress") if t["root_key"] not in pending]
    say(f"  其他工单 other tickets: {len(others)}  (每个故障一张工单 one ticket per fault)")
    say("\n修复 / repairs:")
    stack.clear_faults()
    say("  全部故障已清除 all faults cleared; 等待告警恢复及防抖 waiting for recovery and hold-down")
    done: set[str] = set()

    def tickets_resolved() -> bool:
        for t in stack.tickets(state="resolved"):
            if t["root_key"] in pending and t["root_key"] not in done:
                done.add(t["root_key"])
                say(f"  工单恢复 ticket resolved: {describe(t)}")
        return len(done) == len(pending)

    stack.wait_for("every ticket to resolve", tickets_resolved, timeout, every=2)


def demo_accounts(inv: Inventory, steps: list[Step]) -> list[tuple[str, str, str]]:
    """One login per role: the fiber cut's contractor gets the manager and a technician; another
    contractor gets a technician who must see none of it."""
    link = next((s.target for s in steps if s.fault == "fiber_cut"), "")
    behind = [d for d in inv.topology.downstream(link) if d in inv.devices] if link else []
    ct = inv.devices[behind[0]].contractor if behind else sorted(inv.contractors)[0]
    other = next((c for c in sorted(inv.contractors) if c != ct), "")
    out = [("admin", "admin", ""), ("supervisor", "supervisor", ""), (f"manager-{ct}", "manager", ct),
           (f"tech-{ct}", "technician", ct)]
    return out + ([(f"tech-{other}", "technician", other)] if other else [])


def print_web(stack: Stack, accounts: list[tuple[str, str, str]], logins: Any) -> None:
    say(f"  {pad('维保工单（手机）/ web app', 34)}{stack.url('tickets')}/app/")
    for username, role, contractor in accounts:
        say(f"    {pad(role, 12)}{pad(username, 22)}{contractor}")
    say(f"    密码 passwords: {logins} (mode 0600)")


def run_demo(args: argparse.Namespace) -> int:
    inventory = Path(args.inventory) if args.inventory else SAMPLE
    townships = tuple(args.township)
    opts = StackOptions(inventory=inventory, workdir=Path(args.workdir), ports=Ports().offset(args.port_offset),
                        townships=townships, interval_scale=args.interval_scale, for_scale=args.for_scale,
                        hold_down=args.hold_down, nft_table=args.nft_table,
                        traps_port=None if args.no_traps else DEFAULT_PORTS["traps"] + args.port_offset,
                        snapshot_interval=args.snapshot_interval)
    stack = Stack(opts)

    def interrupted(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    say("sharpeyes 演示 / demo — 模拟区县全链路监测 the simulated district monitored end to end")
    try:
        t0 = time.monotonic()
        say("启动中 / starting: simulator, exporter, tickets, recording, Alertmanager, Prometheus …")
        stack.start(timeout=args.timeout)
        inv = load_inventory(stack.inventory_dir)
        n = sum(1 for _ in inv.active_devices())
        say(f"  已启动 started in {time.monotonic() - t0:.0f} s: {n} 台在用设备 active devices"
            f"{' in ' + ', '.join(townships) if townships else ''}")
        print_urls(stack)
        steps = [] if args.no_scenario else pick_scenario(inv)
        accounts = demo_accounts(inv, steps)
        print_web(stack, accounts, stack.web_accounts(accounts))
        wait_monitored(stack, n, args.timeout * 2)
        if not args.no_scenario:
            play(stack, steps, args.scenario_timeout)
            show_recording_gap(stack, steps, args.scenario_timeout)
            say("\n场景完成 scenario complete.")
        if args.exit_after_scenario:
            return 0
        say("按 Ctrl-C 停止 / press Ctrl-C to stop everything.")
        while True:
            for proc in stack.processes:
                if proc.proc is not None and proc.proc.poll() is not None:
                    raise UserError(f"{proc.name} stopped unexpectedly: {proc.last_log_line()} (log: {proc.log})")
            time.sleep(1)
    except KeyboardInterrupt:
        say("\n停止中 / stopping …")
        return 0
    except StackError as exc:
        raise UserError(str(exc)) from None
    finally:
        stack.stop()
        say("已停止 / stopped.")
