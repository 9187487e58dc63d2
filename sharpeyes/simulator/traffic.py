"""Octet counters as closed-form integrals of a piecewise rate: nothing ticks in the background.

Every camera sends ``mean × (1 + a·sin(ω·t_local + φ))`` bytes/s (ω: one day; the peak falls in the
afternoon, when street scenes move most). A sum of such sinusoids is again ``A + B·sin ωt + C·cos ωt``,
so each switch port keeps three coefficients per direction for the cameras whose traffic crosses it.
When a fault changes who sends what, every counter closes its segment (adds the integral so far) and
takes new coefficients; a read is one closed-form evaluation.
"""

from __future__ import annotations

import hashlib
import math
import time

DAY_S = 86400.0
OMEGA = 2 * math.pi / DAY_S
SUB_STREAM_KBPS = 512
DAY_NIGHT_AMPLITUDE = 0.15
PEAK_LOCAL_HOUR = 14.0
REVERSE_SHARE = 0.02  # requests, RTCP and TCP ACKs flowing back towards the camera
STALLED_SHARE = 0.002  # an encoder that stalled still sends keep-alives


def _unit(device_id: str, salt: str) -> float:
    digest = hashlib.blake2b(f"{salt}:{device_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


class RateModel:
    """Bytes/s of one camera as ``mean + b·sin ωt + c·cos ωt`` (t: POSIX seconds)."""

    __slots__ = ("b", "c", "mean")

    def __init__(self, device_id: str, main_kbps: int, utc_offset_s: float = 8 * 3600) -> None:
        scene = 0.85 + 0.25 * _unit(device_id, "scene")  # busy crossroads vs quiet lane
        self.mean = (main_kbps + SUB_STREAM_KBPS) * 125.0 * scene
        amp = self.mean * DAY_NIGHT_AMPLITUDE * (0.6 + 0.8 * _unit(device_id, "amp"))
        # sin(ω(t + offset) + φ) peaks at local PEAK hour: ω·(peak·3600) + φ = π/2
        phi = math.pi / 2 - OMEGA * PEAK_LOCAL_HOUR * 3600 + OMEGA * utc_offset_s
        self.b = amp * math.cos(phi)
        self.c = amp * math.sin(phi)

    def rate(self, t: float) -> float:
        return self.mean + self.b * math.sin(OMEGA * t) + self.c * math.cos(OMEGA * t)


def integral(a: float, b: float, c: float, t0: float, t1: float) -> float:
    """∫ a + b·sin ωt + c·cos ωt dt from t0 to t1."""
    return (
        a * (t1 - t0)
        + b / OMEGA * (math.cos(OMEGA * t0) - math.cos(OMEGA * t1))
        + c / OMEGA * (math.sin(OMEGA * t1) - math.sin(OMEGA * t0))
    )


class Counter:
    """One direction of one interface: octets = acc + ∫ rate since t0; rate = a + b sin + c cos."""

    __slots__ = ("a", "acc", "b", "c", "t0")

    def __init__(self, t: float, start: float = 0.0) -> None:
        self.t0 = t
        self.acc = start
        self.a = self.b = self.c = 0.0

    def value(self, t: float | None = None) -> int:
        now = time.time() if t is None else t
        return int(self.acc + integral(self.a, self.b, self.c, self.t0, max(now, self.t0)))

    def rate(self, t: float) -> float:
        return self.a + self.b * math.sin(OMEGA * t) + self.c * math.cos(OMEGA * t)

    def close(self, t: float) -> None:
        """End the current segment at ``t`` (the coefficients are then zeroed for re-adding)."""
        self.acc += integral(self.a, self.b, self.c, self.t0, max(t, self.t0))
        self.t0 = max(t, self.t0)
        self.a = self.b = self.c = 0.0

    def reset(self, t: float, start: float = 0.0) -> None:
        self.t0 = t
        self.acc = start
        self.a = self.b = self.c = 0.0

    def add(self, model: RateModel, share: float) -> None:
        self.a += model.mean * share
        self.b += model.b * share
        self.c += model.c * share
