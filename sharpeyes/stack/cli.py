"""sharpeyes-demo: the simulated district monitored end to end (the README's first command).

sharpeyes-demo [--township ID ...] [--port-offset N] [--workdir DIR] [--exit-after-scenario]
"""

from __future__ import annotations

import argparse
import sys

from sharpeyes.cli import cli_main, duration_arg, parser, setup_logging
from sharpeyes.contract import DEFAULT_PORTS

PROG = "sharpeyes-demo"


def _hold_down(text: str) -> str:
    duration_arg(text)  # the tickets config takes the text; refuse a bad one here, before anything starts
    return text


def build_parser() -> argparse.ArgumentParser:
    p = parser(PROG, "Run the whole stack (simulator, exporter, tickets, recording, Alertmanager, Prometheus) on "
               "the simulated district and play a scenario: a fiber cut, a camera power loss, a stalled encoder, "
               "a frozen picture and a recorder's disk failure become one ticket each, then resolve; the disk "
               "failure leaves a recording gap. Ctrl-C stops everything.",
               examples=("sharpeyes-demo --township dakuai", "sharpeyes-demo --township dakuai --exit-after-scenario",
                         "sharpeyes-demo --port-offset 100"))
    p.add_argument("--inventory", "-i", help="inventory directory (default: the embedded sample district)")
    p.add_argument("--township", action="append", default=[], help="only this township (repeatable)")
    p.add_argument("--workdir", default="var/demo", help="generated configs, data and logs (default: var/demo)")
    ports = ", ".join(str(v) for v in sorted(DEFAULT_PORTS.values()))
    p.add_argument("--port-offset", type=int, default=0, help=f"add N to every port ({ports})")
    p.add_argument("--nft-table", default="sharpeyes_demo",
                   help="the simulator's nftables table (default sharpeyes_demo; one per demo running at once)")
    p.add_argument("--interval-scale", type=float, default=0.5, help="scrape intervals × this (default 0.5)")
    p.add_argument("--for-scale", type=float, default=0.1, help="alert for: durations × this (default 0.1)")
    p.add_argument("--snapshot-interval", type=duration_arg, default=120.0, metavar="DURATION",
                   help="one still per camera this often for video quality diagnosis (default: 2m; production "
                   "10m): a frozen picture shows after two stills")
    p.add_argument("--hold-down", type=_hold_down, default="30s",
                   help="ticket auto-resolve hold-down, e.g. 30s, 2m (default 30s)")
    p.add_argument("--timeout", type=duration_arg, default=120.0, metavar="DURATION",
                   help="start-up timeout per component (default: 2m)")
    p.add_argument("--scenario-timeout", type=duration_arg, default=600.0, metavar="DURATION",
                   help="how long to wait for each scenario phase (default: 10m)")
    p.add_argument("--no-traps", action="store_true",
                   help="no SNMP traps: the simulator sends none and the exporter's trap receiver stays off "
                        f"(default: on, UDP {DEFAULT_PORTS['traps']} + the port offset)")
    p.add_argument("--no-scenario", action="store_true", help="just run the stack")
    p.add_argument("--exit-after-scenario", action="store_true", help="stop after the scenario (tests, CI)")
    return p


@cli_main(PROG)
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args)
    from sharpeyes.stack.demo import run_demo

    return run_demo(args)


if __name__ == "__main__":
    sys.exit(main(None))
