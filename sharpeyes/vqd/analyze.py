"""All checks over one still, with this camera's baseline: the verdicts, the masking between them,
and what the still teaches the baseline.

Masking: a fault that makes other checks meaningless silences them (their verdict becomes "not
judged", their score stays visible). A black screen is not also "low contrast" and "defocused"; a
dark picture's amplified noise is not "snow"; fog is not defocus. Each entry of ``_MASKS`` reads
"when this check faults, those checks are not judged". The remaining faults are listed in
``PRIORITY`` order, the first being the still's primary fault.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np

from sharpeyes.contract import VQD_CHECKS
from sharpeyes.vqd import checks as c
from sharpeyes.vqd.baseline import Baseline
from sharpeyes.vqd.frame import Frame

PRIORITY = VQD_CHECKS
_SCENE = ("low_contrast", "defocus", "occluded", "displaced", "snow", "stripes", "color_cast")
_MASKS: dict[str, tuple[str, ...]] = {
    "video_loss": tuple(x for x in PRIORITY if x != "video_loss"),
    "too_dark": _SCENE,
    "overexposed": _SCENE,
    "low_contrast": ("defocus", "occluded", "displaced"),
    "occluded": ("defocus", "displaced"),
    "defocus": ("occluded", "displaced"),
    "snow": ("displaced", "defocus"),
    "stripes": ("displaced", "defocus"),
}
# Faults that keep a still out of the baseline even while the baseline is being learnt.
_ABSOLUTE = ("video_loss", "frozen", "too_dark", "overexposed", "low_contrast", "snow")


@dataclass(frozen=True, slots=True)
class VqdSettings:
    video_loss: c.VideoLossSettings = field(default_factory=c.VideoLossSettings)
    frozen: c.FrozenSettings = field(default_factory=c.FrozenSettings)
    too_dark: c.DarkSettings = field(default_factory=c.DarkSettings)
    overexposed: c.OverexposedSettings = field(default_factory=c.OverexposedSettings)
    low_contrast: c.ContrastSettings = field(default_factory=c.ContrastSettings)
    texture: c.TextureSettings = field(default_factory=c.TextureSettings)
    snow: c.SnowSettings = field(default_factory=c.SnowSettings)
    stripes: c.StripeSettings = field(default_factory=c.StripeSettings)
    color_cast: c.CastSettings = field(default_factory=c.CastSettings)
    displaced: c.DisplacedSettings = field(default_factory=c.DisplacedSettings)
    min_samples: int = 6  # intact stills of a light mode before its relative checks judge
    keep: int = 48  # samples per score kept in the ring (8 h of day at a 10-minute interval)


@dataclass(frozen=True, slots=True)
class Diagnosis:
    mode: str  # "day" or "night" (monochrome infrared)
    findings: dict[str, c.Finding]
    faults: tuple[str, ...]  # in PRIORITY order
    baseline_ready: bool

    @property
    def intact(self) -> bool:
        return not self.faults

    @property
    def primary(self) -> str:
        return self.faults[0] if self.faults else ""


def analyze(frame: Frame, baseline: Baseline, taken: float, settings: VqdSettings | None = None) -> Diagnosis:
    """Judge one still. Pure: the baseline is read, never changed (see ``learn``)."""
    s = settings or VqdSettings()
    mode = "night" if frame.grayscale else "day"
    mb = baseline.modes[mode]
    ready = baseline.ready(mode, s.min_samples)

    def med(stat: str) -> float | None:
        return mb.median(stat) if ready else None

    ref = mb.reference if ready else None
    found = [
        c.video_loss(frame, s.video_loss),
        c.frozen(frame, baseline.previous, taken - baseline.previous_taken, s.frozen),
        c.too_dark(frame, med("mean"), s.too_dark),
        c.overexposed(frame, med("clipped"), med("mean"), med("contrast"), s.overexposed),
        c.low_contrast(frame, med("contrast"), s.low_contrast),
        c.defocus(frame, ref, s.texture),
        c.occluded(frame, ref, s.texture),
        c.snow(frame, med("noise"), s.snow),
        c.stripes(frame, med("stripe_peak"), s.stripes),
        c.color_cast(frame, ref, s.color_cast),
        c.displaced(frame, ref, s.displaced),
    ]
    findings = _mask({f.check: f for f in found})
    faults = tuple(name for name in PRIORITY if findings[name].fault)
    return Diagnosis(mode, findings, faults, ready)


def _mask(findings: dict[str, c.Finding]) -> dict[str, c.Finding]:
    out = dict(findings)
    # A displacement measured by a homography is certain; "reference not found" is not, when
    # the picture also lost its detail (defocus, occlusion): then those explain the failed match.
    moved = out["displaced"]
    if moved.fault and moved.score < 1.0:
        for name in ("occluded", "defocus"):
            out[name] = replace(out[name], fault=None, detail=f"masked by displaced; {out[name].detail}")
    for name in PRIORITY:
        if not out[name].fault:
            continue
        for other in _MASKS.get(name, ()):
            if out[other].fault is not None:
                out[other] = replace(out[other], fault=None, detail=f"masked by {name}; {out[other].detail}")
    return out


def frame_stats(frame: Frame, s: VqdSettings) -> dict[str, float]:
    a, b = frame.block_chroma
    return {
        "mean": frame.mean, "clipped": frame.fraction_at_least(s.overexposed.clipped_level),
        "contrast": frame.contrast, "noise": frame.noise, "stripe_peak": frame.stripe_peak,
        "chroma_a": a, "chroma_b": b,
    }


def make_reference(frame: Frame, s: VqdSettings) -> c.Reference:
    pts, des = c.orb_features(frame.normalized, s.displaced.features)
    texture = (frame.block_texture / max(frame.contrast, 1.0)).astype(np.float32)
    fine = (frame.block_fine / np.maximum(frame.block_std, 1.0)).astype(np.float32)
    return c.Reference(texture, fine, frame.block_colour.copy(), frame.block_std.copy(), pts, des,
                       frame.gray.shape[1])


def learn(baseline: Baseline, frame: Frame, diagnosis: Diagnosis, taken: float, jpeg: bytes | None = None,
          settings: VqdSettings | None = None) -> bool:
    """Update the baseline with a judged still; True when the still became the mode's reference."""
    s = settings or VqdSettings()
    baseline.previous = frame.interior.copy()
    baseline.previous_taken = taken
    if any(diagnosis.findings[name].fault for name in _ABSOLUTE):
        return False
    mb = baseline.modes[diagnosis.mode]
    new_reference = False
    if mb.reference is None:
        mb.reference = make_reference(frame, s)
        mb.reference_taken = taken
        mb.reference_jpeg = jpeg
        new_reference = True
    if diagnosis.intact:
        mb.add(frame_stats(frame, s), time.localtime(taken).tm_hour, s.keep)
    return new_reference
