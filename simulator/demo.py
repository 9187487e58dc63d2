"""``sharpeyes-sim demo``: the simulated district monitored end to end, with a scripted scenario.

Starts the stack (simulator, exporter, ticket service, Alertmanager, Prometheus) on loopback, prints
where everything runs, then plays a fiber cut, a camera power loss and a stalled encoder, shows the
tickets appearing, repairs everything and shows the tickets resolving. Ctrl-C stops everything.
"""

from __future__ import annotations

import argparse
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from inventory import load_inventory
from inventory.console import UserError
from inventory.model import Inventory
from inventory.stats import pad

from .stack import Ports, Stack, StackError, StackOptions

SAMPLE = Path(__file__).resolve().parent.parent / "inventory" / "sample" / "fengquan"


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
    """A fiber cut of a village access switch, a camera power loss and a stalled encoder elsewhere."""
    topo = inv.topology
    links = sorted((lk for lk in inv.links.values() if lk.active and lk.build == "district"), key=lambda x: x.id)
    if not links:
        raise UserError("the inventory has no village access fiber link to cut")
    link = links[0]
    downstream = topo.downstream(link.id)
    cams = sorted(d.id for d in inv.active_devices() if d.kind == "camera" and d.id not in downstream
                  and d.funding == "sharp_eyes")
    if len(cams) < 2:
        raise UserError("the inventory has too few cameras outside the cut link for the demo")
    down_cams = sum(1 for d in downstream if inv.devices[d].kind == "camera")
    power, stall = cams[0], cams[len(cams) // 2]
    return [
        Step("encoder_stalled", stall, f"device:{stall}", f"摄像机 {stall} 编码器卡死(在线但无码流)",
             f"camera {stall}: encoder stalled (online, no stream)"),
        Step("fiber_cut", link.id, f"fiber_link:{link.id}",
             f"光纤 {link.id} 中断(下游 {down_cams} 台摄像机)", f"fiber {link.id} cut ({down_cams} cameras behind it)"),
        Step("power_loss", power, f"device:{power}", f"摄像机 {power} 断电", f"camera {power}: power loss"),
    ]


def print_urls(stack: Stack) -> None:
    say("运行中 / running:")
    for label, comp, path in (
        ("Prometheus", "prometheus", "/alerts"),
        ("Alertmanager", "alertmanager", "/#/alerts"),
        ("工单 API / tickets API", "tickets", "/api/v1/tickets  (token: " + str(stack.tickets_token_file) + ")"),
        ("导出器 / exporter", "exporter", "/"),
        ("模拟器控制 / simulator control", "control", "/api/faults"),
    ):
        say(f"  {pad(label, 34)}{stack.url(comp)}{path}")
    say(f"  {pad('日志 / logs', 34)}{stack.logs}")


def wait_monitored(stack: Stack, n_devices: int, timeout: float) -> None:
    def seen() -> bool:
        r = stack.query('count(probe_success{job="sharpeyes_icmp"} == 1)')
        up = int(float(r[0]["value"][1])) if r else 0
        print(f"\r  已探测在线设备 devices seen up: {up}/{n_devices}", end="", flush=True)
        return up >= n_devices * 0.98 and bool(stack.query("count(sharpeyes:device_up)"))

    stack.wait_for("every device to be probed", seen, timeout, every=2)
    say()


def describe(t: dict[str, Any]) -> str:
    devs = t.get("devices") or []
    return (f"#{t['id']} [{t['state']}] {t['title_zh'] or t['title']} — {t['contractor']} "
            f"({len(devs)} 台设备 devices)")


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


def run_demo(args: argparse.Namespace) -> int:
    inventory = Path(args.inventory) if args.inventory else SAMPLE
    townships = tuple(args.township)
    opts = StackOptions(inventory=inventory, workdir=Path(args.workdir), ports=Ports().offset(args.port_offset),
                        townships=townships, interval_scale=args.interval_scale, for_scale=args.for_scale,
                        hold_down=args.hold_down)
    stack = Stack(opts)

    def interrupted(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    say("sharpeyes 演示 / demo — 模拟区县全链路监测 the simulated district monitored end to end")
    try:
        t0 = time.monotonic()
        say("启动中 / starting: simulator, exporter, tickets, Alertmanager, Prometheus …")
        stack.start(timeout=args.timeout)
        inv = load_inventory(stack.inventory_dir)
        n = sum(1 for _ in inv.active_devices())
        say(f"  已启动 started in {time.monotonic() - t0:.0f} s: {n} 台在用设备 active devices"
            f"{' in ' + ', '.join(townships) if townships else ''}")
        print_urls(stack)
        wait_monitored(stack, n, args.timeout * 2)
        if not args.no_scenario:
            play(stack, pick_scenario(inv), args.scenario_timeout)
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


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="run the whole stack on the simulated district and play a scenario")
    p.add_argument("--inventory", "-i", help="inventory directory (default: the embedded sample district)")
    p.add_argument("--township", action="append", default=[], help="only this township (repeatable)")
    p.add_argument("--workdir", default="var/demo", help="generated configs, data and logs (default: var/demo)")
    p.add_argument("--port-offset", type=int, default=0, help="add N to every port (9090, 9093, 9180, 9430, 9440)")
    p.add_argument("--interval-scale", type=float, default=0.5, help="scrape intervals × this (default 0.5)")
    p.add_argument("--for-scale", type=float, default=0.1, help="alert for: durations × this (default 0.1)")
    p.add_argument("--hold-down", default="30s", help="ticket auto-resolve hold-down (default 30s)")
    p.add_argument("--timeout", type=float, default=120.0, help="start-up timeout per component, seconds")
    p.add_argument("--scenario-timeout", type=float, default=600.0, help="seconds to wait for each scenario phase")
    p.add_argument("--no-scenario", action="store_true", help="just run the stack")
    p.add_argument("--exit-after-scenario", action="store_true", help="stop after the scenario (tests, CI)")
    p.set_defaults(fn=run_demo)
