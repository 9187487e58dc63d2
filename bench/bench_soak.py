"""The false-ticket soak on the real rule engine: 24 h of the sample district through promtool.

What runs for real: the generated alert rules (alerts/generated/sharpeyes-rules.yml), evaluated by
promtool every 15 s over 24 h of input series, and Prometheus' own ALERTS series, from which the
firing episodes are counted. What is modelled: the probe results fed in. Every device answers ICMP
with 5 % loss on requests (one of five echoes must come back), 2 % of the cameras with 30 % loss;
camera ports are read every 30 s; three camera ports flap (down 10 s every 30 s, for 2 h each); one
access switch reboots (down 30 s); five real faults: a fiber cut, a switch down, two camera power
losses, a port down. Each firing episode is explained by the event whose devices it covers (while the
event lasts, plus 10 minutes) or counted false. Printed: episodes by alert, per event the episodes and
the rule path's latency, and the false-ticket count. (The trap path is measured by bench_traps.py.)

    python bench/bench_soak.py [--hours 24] [--township ID] [--seed 1] [--quick]

``--quick``: 2 h of one township (what tests/alerts/test_bench_soak_quick.py runs).
"""

from __future__ import annotations

import argparse
import math
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from sharpeyes.alerts import build
from sharpeyes.contract import SAMPLE_DISTRICT
from sharpeyes.exporters.inventory_state import port_map
from sharpeyes.inventory import load_inventory
from sharpeyes.inventory.model import Inventory
from sharpeyes.inventory.sd import target_labels

STEP = 15
ALERTS = ("CameraOffline", "SwitchDown", "SwitchPortDown", "SwitchPortFlapping", "FiberLinkDown",
          "FiberLinkFlapping")
GRACE = 600  # an episode up to 10 minutes after its event ends still belongs to it


@dataclass
class Event:
    name: str
    kind: str  # fault | flapping | reboot
    start: int  # step
    end: int  # step (exclusive)
    covers: set[str] = field(default_factory=set)  # device ids and fiber link ids


def echo_fail(loss: float, echoes: int = 5) -> float:
    return loss ** echoes


def random_failures(rng: random.Random, p: float, n: int) -> set[int]:
    """Steps (0..n-1) at which an independent probe with failure probability p fails."""
    out: set[int] = set()
    if p <= 0:
        return out
    i = -1
    while True:
        i += 1 + int(math.log(1.0 - rng.random()) / math.log(1.0 - p))
        if i >= n:
            return out
        out.add(i)


def encode(values: list[int | None]) -> str:
    """promtool series notation for a list of 1/0/None (missing) samples, run-length encoded."""
    out, i = [], 0
    while i < len(values):
        j = i
        while j < len(values) and values[j] == values[i]:
            j += 1
        run = j - i
        out.append(f"_x{run}" if values[i] is None else f"{values[i]}x{run - 1}")
        i = j
    return " ".join(out)


def series(metric: str, labels: dict[str, str], values: str) -> dict[str, str]:
    body = ", ".join(f'{k}="{v}"' for k, v in labels.items() if v)
    return {"series": f"{metric}{{{body}}}", "values": values}


def scenario(inv: Inventory, steps: int, rng: random.Random, township: str | None) -> tuple[list[Event], set[str]]:
    devs = sorted((d for d in inv.active_devices() if township is None or d.township == township),
                  key=lambda d: d.id)
    cams = [d for d in devs if d.kind == "camera" and d.uplink is not None]
    topo = inv.topology
    h = steps // 24  # one "hour" of the run (the whole run is 24 of them)
    link = next(lk for lk in sorted(inv.links.values(), key=lambda x: x.id)
                if lk.build == "district" and (township is None or lk.township == township))
    busy = topo.downstream(link.id) | {link.a.switch, link.b.switch}
    switch = next(d for d in devs if d.kind == "switch" and d.role == "access" and d.id not in busy)
    busy |= topo.downstream(switch.id) | {switch.id}
    reboot = next(d for d in devs if d.kind == "switch" and d.role == "access" and d.id not in busy)
    busy |= topo.downstream(reboot.id) | {reboot.id}
    free = [c for c in cams if c.id not in busy]
    pick = rng.sample(free, 6)
    events = [
        Event(f"fiber_cut {link.id}", "fault", 3 * h, 4 * h, topo.downstream(link.id) | {link.id}),
        Event(f"switch_down {switch.id}", "fault", 7 * h, 8 * h,
              topo.downstream(switch.id) | {switch.id, topo.nearest_link(switch)}),
        Event(f"power_loss {pick[0].id}", "fault", 11 * h, 12 * h, {pick[0].id}),
        Event(f"power_loss {pick[1].id}", "fault", 15 * h, 15 * h + h // 2, {pick[1].id}),
        Event(f"port_down {pick[2].uplink.switch}:{pick[2].uplink.port}", "fault", 19 * h, 20 * h,  # type: ignore[union-attr]
              {pick[2].id}),
        *(Event(f"flapping {c.uplink.switch}:{c.uplink.port}", "flapping", s * h, s * h + 2 * h, {c.id})  # type: ignore[union-attr]
          for c, s in zip(pick[3:], (5, 9, 13), strict=True)),
        Event(f"reboot {reboot.id}", "reboot", 21 * h, 21 * h + 2, topo.downstream(reboot.id) | {reboot.id,
              topo.nearest_link(reboot)}),
    ]
    lossy = {c.id for c in rng.sample([c for c in free if c not in pick], max(1, len(cams) * 2 // 100))}
    return events, lossy


def build_inputs(inv: Inventory, steps: int, rng: random.Random, township: str | None,
                 events: list[Event], lossy: set[str]) -> list[dict[str, str]]:
    devs = [d for d in inv.active_devices() if township is None or d.township == township]
    ids = {d.id for d in devs}
    dead: dict[str, list[tuple[int, int]]] = {}
    for ev in events:  # what cannot answer while the event lasts (a fiber link id covers no device)
        if ev.kind in ("fault", "reboot"):
            for node in ev.covers:
                dead.setdefault(node, []).append((ev.start, ev.end))
    flaps = {next(iter(ev.covers)): (ev.start, ev.end) for ev in events if ev.kind == "flapping"}
    out = []
    for d in devs:
        fails = random_failures(rng, echo_fail(0.30 if d.id in lossy else 0.05), steps)
        values: list[int | None] = [0 if i in fails else 1 for i in range(steps)]
        for a, b in dead.get(d.id, []):
            values[a:b] = [0] * (b - a)
        if d.id in flaps:  # down 10 s of every 30 s: a probe lands in a down phase every other time
            a, b = flaps[d.id]
            for i in range(a, b):
                if (i - a) % 2 == 1:
                    values[i] = 0
        labels = {k: v for k, v in target_labels(inv, d).items() if v}
        out.append(series("probe_success", {**labels, "job": "sharpeyes_icmp", "instance": d.id}, encode(values)))
        out.append(series("sharpeyes_device_info", {**labels, "job": "sharpeyes_inventory"}, f"1x{steps - 1}"))
    for switch_id, ports in port_map(inv).items():
        if switch_id not in ids:
            continue
        sw = inv.devices[switch_id]
        unreadable = dead.get(switch_id, []) if not any(e.name.startswith("port_down") and switch_id in e.covers
                                                         for e in events) else []
        for p in ports:
            values = [1] * steps
            peer = p.device or ""
            link = p.link or ""
            for a, b in dead.get(peer, []) + ([(e.start, e.end) for e in events if link in e.covers]
                                              if link else []):
                values[a:b] = [0] * (b - a)
            if peer in flaps:
                a, b = flaps[peer]
                for i in range(a, b):
                    values[i] = 0 if ((i - a) // 2) % 2 == 1 else 1  # readings every 30 s alternate
            vals: list[int | None] = list(values)
            for a, b in unreadable:
                vals[a:b] = [None] * (b - a)
            for i in range(1, steps, 2):  # one reading every 30 s, held by Prometheus' lookback
                vals[i] = vals[i - 1]
            labels = {"job": "sharpeyes_snmp_switch", "instance": switch_id, "device": switch_id,
                      "kind": sw.kind, "port": p.name, "port_device": peer, "port_link": link}
            out.append(series("sharpeyes_port_up", labels, encode(vals)))
    return out


_SAMPLE = re.compile(r"\{([^{}]*)\} ([-+0-9.Ee]+)")


def episodes(promtool: str, rules: Path, inputs: list[dict[str, str]], steps: int, tmp: Path) -> tuple[
        list[tuple[dict[str, str], float]], list[tuple[dict[str, str], float]], float]:
    """(episode counts per alert series, first start time per series, promtool seconds)."""
    starts = 'ALERTS{alertstate="firing"} unless ALERTS{alertstate="firing"} offset 15s'
    window = 1800  # subqueries over 24 h load too many samples for promtool: 30 min windows, disjoint
    checks = []
    for end in range(window, steps * STEP + window, window):
        at = min(end, steps * STEP)
        span = f"{min(window, at) - 1}s:{STEP}s"  # (at - window, at]: no episode counted twice
        checks += [{"expr": f"sum_over_time(({starts})[{span}])", "eval_time": f"{at}s", "exp_samples": []},
                   {"expr": f"min_over_time(timestamp({starts})[{span}])", "eval_time": f"{at}s",
                    "exp_samples": []}]
    test = {"rule_files": [str(rules)], "evaluation_interval": f"{STEP}s", "tests": [{
        "interval": f"{STEP}s", "input_series": inputs, "promql_expr_test": checks}]}
    path = tmp / "soak.test.yml"
    path.write_text(yaml.safe_dump(test, allow_unicode=True), encoding="utf-8")
    t0 = time.monotonic()
    proc = subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, text=True, check=False)
    took = time.monotonic() - t0
    if proc.returncode == 0:  # both expectations (no samples) held: not a single alert fired
        return [], [], took
    text = proc.stdout + proc.stderr
    counts: dict[tuple[tuple[str, str], ...], float] = {}
    firsts: dict[tuple[tuple[str, str], ...], float] = {}
    for block in text.split("expr:")[1:]:
        if "err:" in block.split("\n", 1)[0]:
            raise RuntimeError(f"promtool failed: {block[:500]}")
        is_sum = block.lstrip(' "').startswith("sum_over_time")
        got = block.split("got:", 1)[1] if "got:" in block else ""
        for m in _SAMPLE.finditer(got):
            key = tuple(sorted(re.findall(r'(\w+)="([^"]*)"', m.group(1).replace('\\"', '"'))))
            value = float(m.group(2))
            if is_sum:
                counts[key] = counts.get(key, 0) + value
            else:
                firsts[key] = min(firsts.get(key, value), value)
    return ([(dict(k), v) for k, v in counts.items() if v],
            [(dict(k), v) for k, v in firsts.items()], took)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--township", help="one township instead of the district (promtool time / 6 per township)")
    ap.add_argument("--quick", action="store_true", help="2 h of one township")
    args = ap.parse_args()
    promtool = shutil.which("promtool")
    if promtool is None:
        print("promtool not installed", file=sys.stderr)
        return 2
    hours = 2.0 if args.quick else args.hours
    township = "dakuai" if args.quick else args.township
    steps = int(hours * 3600 / STEP)
    rng = random.Random(args.seed)
    inv = load_inventory(SAMPLE_DISTRICT)
    events, lossy = scenario(inv, steps, rng, township)
    inputs = build_inputs(inv, steps, rng, township, events, lossy)
    with tempfile.TemporaryDirectory() as tmp:
        doc = yaml.safe_load((build.DEFAULT_OUT / build.RULES_FILE).read_text(encoding="utf-8"))
        for g in doc["groups"]:
            g["rules"] = [r for r in g["rules"] if r.get("alert") in ALERTS]
        rules = Path(tmp) / "rules.yml"
        rules.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        counts, firsts, took = episodes(promtool, rules, inputs, steps, Path(tmp))
    first = {tuple(sorted(lb.items())): t for lb, t in firsts}
    cams = sum(1 for d in inv.active_devices() if d.kind == "camera" and (township is None or d.township == township))
    print(f"{hours:g} h of {'township ' + township if township else 'the district'} ({cams} cameras, "
          f"{len(lossy)} at 30 % loss, all at 5 %), {len(inputs)} series, promtool {took:.0f} s")
    by_alert: dict[str, int] = {}
    explained: dict[str, list[tuple[str, float]]] = {ev.name: [] for ev in events}
    false = []
    for labels, n in counts:
        name = labels.get("alertname", "")
        by_alert[name] = by_alert.get(name, 0) + int(n)
        key = labels.get("fiber_link") if name.startswith("Fiber") else labels.get("device", "")
        t = first.get(tuple(sorted(labels.items())), 0.0)
        owner = next((ev for ev in events if key in ev.covers and ev.start * STEP <= t <= ev.end * STEP + GRACE),
                     None)
        if owner is None:
            false.append((labels, int(n)))
        else:
            explained[owner.name].append((name, t - owner.start * STEP))
    print("episodes by alert: " + (", ".join(f"{k} {v}" for k, v in sorted(by_alert.items())) or "none"))
    print(f"{'event':<44}{'episodes':>9}  first alert (rule path)")
    for ev in events:
        got = explained[ev.name]
        firstalert = min(got, key=lambda x: x[1]) if got else None
        text = f"{firstalert[0]} after {firstalert[1]:.0f} s" if firstalert else "-"
        print(f"{ev.name:<44}{len(got):>9}  {text}")
    faults = sum(1 for ev in events if ev.kind == "fault" and explained[ev.name])
    flapping = sum(1 for ev in events if ev.kind == "flapping"
                   and [a for a, _ in explained[ev.name]] == ["SwitchPortFlapping"])
    print(f"tickets by kind: fault {faults}/5, flapping {flapping}/3 (exactly one SwitchPortFlapping each), "
          f"reboot {'yes' if explained[events[-1].name] else 'none'}")
    print(f"false tickets: {sum(n for _, n in false)}")
    for labels, n in false[:20]:
        print(f"  false: {labels.get('alertname')} {labels.get('device') or labels.get('fiber_link')} x{n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
