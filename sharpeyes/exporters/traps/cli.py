"""The exporter's trap flags (off unless ``--traps.listen-address`` is given) and receiver start-up."""

from __future__ import annotations

import argparse

from sharpeyes.cli import UserError, duration_arg, host_port_arg
from sharpeyes.exporters.traps.receiver import TrapReceiver, TrapSettings

__all__ = ["TrapSettings", "add_trap_flags", "start_receiver", "trap_settings"]


def add_trap_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--traps.listen-address", dest="traps_listen", type=host_port_arg, metavar="HOST:PORT",
                   help="receive SNMP traps/informs here (e.g. 0.0.0.0:162); off by default")
    p.add_argument("--alertmanager.url", dest="alertmanager_urls", action="append", default=[], metavar="URL",
                   help="Alertmanager receiving trap-confirmed alerts (repeat for every member of an HA pair)")
    p.add_argument("--traps.confirm-delay", dest="traps_confirm_delay", type=duration_arg, default=3.0,
                   metavar="DURATION",
                   help="wait this long after a linkDown before the confirmation probe (default: 3s)")


def trap_settings(args: argparse.Namespace) -> TrapSettings | None:
    if not args.traps_listen:
        if args.alertmanager_urls:
            raise UserError("--alertmanager.url needs --traps.listen-address", status=2)
        return None
    if not args.alertmanager_urls:
        raise UserError("--traps.listen-address needs at least one --alertmanager.url", status=2)
    return TrapSettings(args.traps_listen, tuple(args.alertmanager_urls), confirm_delay=args.traps_confirm_delay)


async def start_receiver(exporter: object, settings: TrapSettings | None) -> TrapReceiver | None:
    if settings is None:
        return None
    receiver = TrapReceiver(exporter, settings)
    try:
        await receiver.start()
    except OSError as exc:
        raise UserError(f"cannot receive traps on {settings.listen[0]}:{settings.listen[1]}: {exc.strerror}") \
            from None
    return receiver
