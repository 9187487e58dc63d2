"""A camera's own normal: reference still and score statistics per light mode, learnt from its stills.

Two light modes, because that is what changes every score of a fixed camera over a day: ``day``
(colour) and ``night`` (the monochrome infrared picture cameras switch to in the dark). The mode
is read from the still itself, not the clock, so dawn, dusk, seasons and street lights need no
configuration. Per mode the baseline keeps:
- the reference still (the first still of that mode with no absolute fault) and its texture map
  and ORB features, which the relative checks compare against;
- a ring of the last ``keep`` values of each score over stills judged intact, whose median is the
  camera's normal level; the hour of each sample is kept so operators can see when it was learnt.
A mode is ready after ``min_samples`` intact stills; until then its relative checks answer
"not judged". Only intact stills update the statistics, so a camera drifting out of focus does not
teach its baseline to be blurred. ``rebaseline`` (a legitimate re-aim, a new lens) starts over.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

import numpy as np

from sharpeyes.vqd.checks import Reference

MODES = ("day", "night")
STATS = ("mean", "clipped", "contrast", "noise", "stripe_peak", "chroma_a", "chroma_b")


@dataclass(slots=True)
class ModeBaseline:
    samples: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in STATS})
    hours: list[int] = field(default_factory=list)
    reference: Reference | None = None
    reference_taken: float = 0.0  # unix time of the reference still
    reference_jpeg: bytes | None = None  # the still as the camera sent it, for people to look at

    def count(self) -> int:
        return len(self.samples["mean"])

    def median(self, stat: str) -> float:
        return statistics.median(self.samples[stat])

    def add(self, values: dict[str, float], hour: int, keep: int) -> None:
        for k in STATS:
            ring = self.samples[k]
            ring.append(float(values[k]))
            del ring[:-keep]
        self.hours.append(hour)
        del self.hours[:-keep]


@dataclass(slots=True)
class Baseline:
    camera: str
    created: float  # unix time the learning started (after a rebaseline: the rebaseline)
    modes: dict[str, ModeBaseline] = field(default_factory=lambda: {m: ModeBaseline() for m in MODES})
    previous: np.ndarray | None = None  # Frame.interior of the last still (frozen check)
    previous_taken: float = 0.0

    def ready(self, mode: str, min_samples: int) -> bool:
        m = self.modes[mode]
        return m.count() >= min_samples and m.reference is not None
