"""ICMP prober: several echoes per probe, so one lost packet on a rural link is loss, not "down".

Success means at least one reply. Samples (contract.md): packets sent/received, loss ratio, and
average/maximum RTT (the RTT pair only when something answered). With no reply the samples are
written first, then ProbeError("timeout") is raised, so loss 1.0 is visible next to
probe_success 0. ``strict_settings`` is the shared strict decoder the other probers' settings use.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from typing import Any, TypeVar

from sharpeyes.exporters.icmp_transport import EchoRequest, IcmpTransport, make_transport
from sharpeyes.exporters.probers.base import MetricWriter, Module, ProbeError, Target

S = TypeVar("S")


def strict_settings(cls: type[S], d: Any, where: str) -> S:
    """Build settings dataclass ``cls`` from a mapping: unknown keys and wrong types are errors.

    Errors are ValueError naming the field as ``<where>.<field>``. Ints are accepted for float
    fields; bools are never accepted as numbers.
    """
    if d is None:
        d = {}
    if not isinstance(d, dict):
        raise ValueError(f"{where}: expected a mapping, got {type(d).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(d) - set(fields))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(map(str, unknown))}; "
                         f"allowed: {', '.join(fields)}")
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for key, value in d.items():
        kwargs[key] = _coerce(hints[key], value, f"{where}.{key}")
    try:
        return cls(**kwargs)
    except ValueError as exc:
        raise ValueError(f"{where}.{exc}") from None


def _coerce(hint: Any, value: Any, where: str) -> Any:
    if isinstance(hint, types.UnionType):
        hint = next(h for h in typing.get_args(hint) if h is not type(None))
    if hint is bool:
        ok = isinstance(value, bool)
    elif hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif hint is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif hint is str:
        ok = isinstance(value, str)
    else:
        ok = True
    if not ok:
        raise ValueError(f"{where}: expected {getattr(hint, '__name__', hint)}, got {value!r}")
    return value


def check(cond: bool, field: str, message: str) -> None:
    """Raise a settings error for ``field`` (strict_settings prefixes the location)."""
    if not cond:
        raise ValueError(f"{field}: {message}")


@dataclass(frozen=True, slots=True)
class IcmpSettings:
    count: int = 3
    interval: float = 0.2  # seconds between echoes
    payload_size: int = 56
    dont_fragment: bool = False

    def __post_init__(self) -> None:
        check(1 <= self.count <= 100, "count", f"must be 1..100, got {self.count}")
        check(0 <= self.interval <= 10, "interval", f"must be 0..10 seconds, got {self.interval}")
        check(0 <= self.payload_size <= 65507, "payload_size", f"must be 0..65507, got {self.payload_size}")

    @classmethod
    def from_dict(cls, d: Any, where: str) -> IcmpSettings:
        return strict_settings(cls, d, where)


class IcmpProber:
    """A Prober bound to one IcmpTransport (the real one is made on first use)."""

    def __init__(self, transport: IcmpTransport | None = None) -> None:
        self._transport = transport

    @property
    def transport(self) -> IcmpTransport:
        if self._transport is None:
            self._transport = make_transport()
        return self._transport

    async def __call__(self, target: Target, module: Module, timeout: float, out: MetricWriter) -> bool:
        settings: IcmpSettings = module.settings or IcmpSettings()
        req = EchoRequest(target.ip, settings.count, settings.interval, timeout,
                          settings.payload_size, settings.dont_fragment)
        result = await self.transport.echo(req)
        if result.sent == 0:
            raise ProbeError("unreachable", "no echo request could be sent")
        write_samples(out, result.sent, result.rtts)
        if not result.rtts:
            raise ProbeError("timeout", f"no reply to {result.sent} echo requests")
        return True

    async def aclose(self) -> None:
        if self._transport is not None:
            await self._transport.aclose()
            self._transport = None


def write_samples(out: MetricWriter, sent: int, rtts: list[float]) -> None:
    received = len(rtts)
    out.gauge("sharpeyes_icmp_packets_sent", "ICMP echo requests sent in this probe.", sent)
    out.gauge("sharpeyes_icmp_packets_received", "ICMP echo replies received in this probe.", received)
    out.gauge("sharpeyes_icmp_packet_loss_ratio", "Share of echo requests without a reply (0..1).",
              (sent - received) / sent)
    if rtts:
        out.gauge("sharpeyes_icmp_rtt_seconds", "Average round-trip time of the replies.",
                  sum(rtts) / received)
        out.gauge("sharpeyes_icmp_rtt_max_seconds", "Largest round-trip time of the replies.", max(rtts))


# The process-wide prober the registry uses; close it on shutdown with ``await probe.aclose()``.
probe = IcmpProber()
