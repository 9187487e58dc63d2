"""``discover``, ``reconcile`` and ``audit`` sub-commands (``sharpeyes-exporter discover …``).

:func:`register` adds them to any argparse sub-parsers object; it works for the exporter's CLI and
for ``sharpeyes-inventory`` alike (options default to ``argparse.SUPPRESS`` so that a parent
parser's own ``--inventory``/``--config.file`` stay in force when the sub-command does not repeat them).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

from sharpeyes import output
from sharpeyes.cli import UserError, duration_arg, setup_logging

log = logging.getLogger("sharpeyes.discovery")
COMMANDS = ("discover", "reconcile", "audit")


def _common(sp: argparse.ArgumentParser) -> None:
    s = argparse.SUPPRESS
    sp.add_argument("--inventory", "-i", metavar="DIR", default=s,
                    help="inventory directory (default: the embedded sample district)")
    sp.add_argument("--config.file", dest="config_file", metavar="PATH", default=s,
                    help="exporter configuration holding the auth profiles (default: embedded default.yml)")
    sp.add_argument("--state-dir", type=Path, default=Path("var/discovery"), metavar="DIR",
                    help="where results are cached (observations.json, findings.json, audit.json, "
                         "metrics.prom; default var/discovery)")
    sp.add_argument("--township", action="append", default=[], metavar="ID",
                    help="only this township (and the switches above it); repeatable")


def _examples(*lines: str) -> str:
    return "examples:\n" + "\n".join(f"  %(prog)s {line.split(' ', 1)[1]}" for line in lines)


def register(sub: Any) -> None:
    sp = sub.add_parser("discover", help="poll switches (LLDP, FDB, ports) and cameras (identity); "
                                         "hourly, or once with --once",
                        description="Poll switches (LLDP, FDB, ports) and cameras (identity), reconcile "
                                    "with the inventory and cache the results.",
                        epilog=_examples("discover --once -i /srv/inventory --config.file exporter.yml",
                                         "discover --interval 6h --township baodong"))
    _common(sp)
    sp.add_argument("--once", action="store_true", help="one run, then exit")
    output.add_quiet_flag(sp)
    sp.add_argument("--interval", type=duration_arg, default=3600.0, metavar="DURATION",
                    help="time between runs (default 1h)")
    sp.add_argument("--snmp-port", type=int, default=161)
    sp.add_argument("--onvif-port", type=int, help="one ONVIF port for every camera (tests)")
    sp.add_argument("--exporter-url", default="", metavar="URL",
                    help="read camera identity from this exporter's onvif probe (its cache) instead "
                         "of asking the cameras")
    sp.add_argument("--no-onvif", action="store_true", help="skip camera identity")
    sp.add_argument("--concurrency", type=int, default=64)
    sp.add_argument("--timeout", type=duration_arg, default=20.0, metavar="DURATION", help="per device")
    sp.add_argument("--cli-threads", type=int, default=8, help="SSH sessions at once (default 8)")
    sp.add_argument("--cli-timeout", type=duration_arg, default=60.0, metavar="DURATION")
    sp.add_argument("--cli-share", type=float, default=1.0, metavar="FRACTION",
                    help="poll this share of the CLI-capable switches by SSH (default 1)")
    sp.add_argument("--cli-port", type=int, help="one SSH port for every switch (tests)")
    sp.add_argument("--firmware-baseline", type=Path, metavar="YAML", help="{model: expected firmware}")
    sp.set_defaults(fn=cmd_discover)

    sp = sub.add_parser("reconcile", help="compare the last discovery with the inventory: unknown, "
                                          "missing, replaced, moved devices, firmware drift",
                        description="Compare the last discovery with the inventory; exit 1 with "
                                    "--fail-on-findings when there are findings.",
                        epilog=_examples("reconcile -i /srv/inventory --report contractor",
                                         "reconcile --format csv --fail-on-findings",
                                         "reconcile --apply --out proposal.patch"))
    _common(sp)
    sp.add_argument("--observations", type=Path, metavar="FILE",
                    help="observations JSON (default: STATE_DIR/observations.json)")
    output.add_output_flags(sp, aliases=("--format",))
    sp.add_argument("--report", choices=("township", "contractor"), action="append", default=[],
                    help="also print counts per township / contractor (repeatable)")
    sp.add_argument("--fail-on-findings", action="store_true", help="exit status 1 when there are findings")
    sp.add_argument("--apply", action="store_true",
                    help="write an inventory change PROPOSAL (unified diff) to --out; the inventory "
                         "directory is never modified")
    sp.add_argument("--out", type=Path, metavar="FILE", help="proposal file (default STATE_DIR/proposal.patch)")
    sp.add_argument("--firmware-baseline", type=Path, metavar="YAML", help="{model: expected firmware}")
    sp.set_defaults(fn=cmd_reconcile)

    sp = sub.add_parser("audit", help="security hygiene: default SNMP communities, SNMPv3 authPriv, "
                                      "vendor default ONVIF passwords, clocks, firmware deny-list",
                        description="Security hygiene audit; exit 1 with --fail-on-findings when there "
                                    "are findings.",
                        epilog=_examples("audit -i /srv/inventory --rate 10",
                                         "audit --check snmp_default_community --format json"))
    _common(sp)
    from sharpeyes.exporters.discovery.audit import CHECKS

    sp.add_argument("--check", action="append", choices=CHECKS, default=[],
                    help="run only this check (repeatable; default: all)")
    sp.add_argument("--rate", type=float, default=20.0, metavar="PER_SECOND",
                    help="network attempts per second, all checks together (default 20)")
    sp.add_argument("--snmp-port", type=int, default=161)
    sp.add_argument("--onvif-port", type=int, help="one ONVIF port for every camera (tests)")
    sp.add_argument("--kind", action="append", default=[], help="only devices of this kind (repeatable)")
    sp.add_argument("--device", action="append", default=[], help="only this device (repeatable)")
    sp.add_argument("--deny-list", type=Path, metavar="YAML", help="firmware deny-list")
    sp.add_argument("--clock-max", type=duration_arg, default=300.0, metavar="DURATION",
                    help="clock offset beyond which a camera is reported (default 5m)")
    output.add_output_flags(sp, aliases=("--format",))
    sp.add_argument("--fail-on-findings", action="store_true")
    sp.set_defaults(fn=cmd_audit)


# ------------------------------------------------------------------ loading


def load_context(args: argparse.Namespace) -> tuple[Any, Any]:
    """(Inventory, auth profiles by name)."""
    from sharpeyes.exporters.config import load_config
    from sharpeyes.exporters.discovery.auth import register_auth_section
    from sharpeyes.inventory import InventoryError, load_inventory
    from sharpeyes.inventory.cli import SAMPLE

    # before anything imports onvif-zeep-async, whose client module calls basicConfig(INFO) on import
    setup_logging(args)
    register_auth_section()
    inv_dir = getattr(args, "inventory", None) or SAMPLE
    try:
        inv = load_inventory(inv_dir)
    except InventoryError as exc:
        raise exc.user_error(inv_dir) from None
    unknown = sorted(set(args.township) - set(inv.townships))
    if unknown:
        raise UserError(f"--township: no township {unknown[0]!r}", status=2)
    config = load_config(getattr(args, "config_file", None))
    return inv, config.auths


def _baseline(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    import yaml

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise UserError(f"cannot read firmware baseline {path}: {type(exc).__name__}") from None
    if not isinstance(doc, dict) or not all(isinstance(v, str | int | float) for v in doc.values()):
        raise UserError(f"{path}: expected a mapping model -> firmware")
    return {str(k): str(v) for k, v in doc.items()}


# ------------------------------------------------------------------ discover


def cmd_discover(args: argparse.Namespace) -> int:
    from sharpeyes.exporters.discovery.run import DiscoverySettings

    inv, auths = load_context(args)
    settings = DiscoverySettings(
        townships=tuple(args.township), snmp_port=args.snmp_port, onvif_port=args.onvif_port,
        concurrency=args.concurrency, device_timeout=args.timeout, cli_threads=args.cli_threads,
        cli_timeout=args.cli_timeout, cli_share=args.cli_share, cli_port=args.cli_port,
        onvif=not args.no_onvif, exporter_url=args.exporter_url, state_dir=args.state_dir)
    baseline = _baseline(args.firmware_baseline)
    while True:
        started = time.monotonic()
        discover_once(inv, auths, settings, baseline, args)
        if args.once:
            return 0
        time.sleep(max(1.0, args.interval - (time.monotonic() - started)))


def discover_once(inv: Any, auths: Any, settings: Any, baseline: dict[str, str] | None = None,
                  args: Any = None) -> Any:
    """Run, cache, reconcile, write the metrics file; returns the Observations."""
    from sharpeyes.exporters.discovery.reconcile import reconcile
    from sharpeyes.exporters.discovery.run import run_discovery, save_observations

    with output.progress("discovery polls", args=args) as tracker:
        obs = asyncio.run(run_discovery(inv, auths, settings, tracker=tracker))
    save_observations(settings.state_dir, obs)
    findings = reconcile(inv, obs, baseline)
    write_results(settings.state_dir, obs, findings)
    polls = [p for p in obs.polls if p.protocol in ("snmp", "cli")]
    ok = sum(p.ok for p in polls)
    if not output.quiet(args):
        print(f"discovery: {ok}/{len(polls)} switch polls ok, {len(obs.fdb)} FDB entries, "
              f"{len(obs.identities)} identities in {obs.duration_s:.1f} s; {len(findings)} finding(s); "
              f"cached in {settings.state_dir}", file=sys.stderr)
    return obs


def write_results(state_dir: Path, obs: Any, findings: list[Any]) -> None:
    from sharpeyes.exporters.discovery.model import write_json

    write_json(state_dir / "findings.json", {"generated": time.time(), "observed": obs.finished,
                                             "findings": [f.to_json() for f in findings]})
    refresh_metrics(state_dir)


def refresh_metrics(state_dir: Path) -> None:
    """metrics.prom from the latest cached observations, findings and audit (whatever exists)."""
    from sharpeyes.exporters.discovery.metrics import render
    from sharpeyes.exporters.discovery.model import AuditFinding, write_text
    from sharpeyes.exporters.discovery.reconcile import Finding
    from sharpeyes.exporters.discovery.run import load_observations

    obs = load_observations(state_dir / "observations.json") \
        if (state_dir / "observations.json").exists() else None
    findings: list[Finding] = []
    if (state_dir / "findings.json").exists():
        doc = json.loads((state_dir / "findings.json").read_text(encoding="utf-8"))
        findings = [Finding.from_json(f) for f in doc.get("findings", [])]
    audit: list[AuditFinding] = []
    meta = None
    if (state_dir / "audit.json").exists():
        doc = json.loads((state_dir / "audit.json").read_text(encoding="utf-8"))
        audit = [AuditFinding.from_json(a) for a in doc.get("findings", [])]
        meta = {"finished": doc.get("finished", 0.0)}
    write_text(state_dir / "metrics.prom", render(obs, findings, audit, meta))


# ------------------------------------------------------------------ reconcile

COLUMNS = ("severity", "type", "device", "switch", "port", "mac", "township", "village", "contractor",
           "detail")


def emit(rows: list[dict[str, Any]], columns: tuple[str, ...], fmt: str) -> None:
    output.emit(rows, columns, fmt, empty="no findings")


def cmd_reconcile(args: argparse.Namespace) -> int:
    from sharpeyes.exporters.discovery.reconcile import reconcile, summary
    from sharpeyes.exporters.discovery.run import load_observations

    inv, _ = load_context(args)
    path = args.observations or args.state_dir / "observations.json"
    try:
        obs = load_observations(path)
    except OSError as exc:
        raise UserError(f"cannot read observations {path}: {exc.strerror} (run `discover --once` first)") from None
    except (ValueError, TypeError, KeyError) as exc:
        raise UserError(f"{path}: not an observations file ({type(exc).__name__})") from None
    findings = reconcile(inv, obs, _baseline(args.firmware_baseline))
    if args.township:
        findings = [f for f in findings if f.township in args.township]
    if args.observations is None:
        write_results(args.state_dir, obs, findings)
    fmt = output.output_format(args)
    emit([f.to_json() for f in findings], COLUMNS, fmt)
    for by in args.report:
        print(f"\nfindings per {by}:", file=sys.stderr if fmt != "table" else sys.stdout)
        for key, counts in summary(findings, by).items():
            parts = ", ".join(f"{t} {n}" for t, n in sorted(counts.items()))
            print(f"  {key}: {parts}", file=sys.stderr if fmt != "table" else sys.stdout)
    if args.apply:
        from sharpeyes.exporters.discovery.proposal import render_patch
        from sharpeyes.inventory.cli import SAMPLE

        inv_dir = Path(getattr(args, "inventory", None) or SAMPLE)
        out = args.out or args.state_dir / "proposal.patch"
        text, changed = render_patch(inv_dir, inv, findings)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        print(f"proposal: {changed} file(s) would change; review {out}, then "
              f"`patch -p1 -d {inv_dir} < {out}` (nothing was modified)", file=sys.stderr)
    return 1 if (args.fail_on_findings and findings) else 0


# ------------------------------------------------------------------ audit

AUDIT_COLUMNS = ("severity", "check", "device", "township", "village", "contractor", "detail")


def cmd_audit(args: argparse.Namespace) -> int:
    from sharpeyes.exporters.discovery.audit import AuditSettings, run_audit
    from sharpeyes.exporters.discovery.model import write_json

    inv, auths = load_context(args)
    settings = AuditSettings(
        checks=tuple(args.check) or None, rate=args.rate, snmp_port=args.snmp_port,
        onvif_port=args.onvif_port, townships=tuple(args.township), kinds=tuple(args.kind),
        devices=tuple(args.device), deny_list=args.deny_list, clock_max_s=args.clock_max,
        observations=args.state_dir / "observations.json")
    started = time.time()
    with output.progress("audit attempts", args=args) as tracker:
        findings = asyncio.run(run_audit(inv, auths, settings, tracker=tracker))
    write_json(args.state_dir / "audit.json", {"started": started, "finished": time.time(),
                                               "findings": [f.to_json() for f in findings]})
    refresh_metrics(args.state_dir)
    emit([f.to_json() for f in findings], AUDIT_COLUMNS, output.output_format(args))
    return 1 if (args.fail_on_findings and findings) else 0
