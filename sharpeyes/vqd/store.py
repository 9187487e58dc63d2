"""Baselines and stills on disk: one directory per camera under the state directory.

    <state>/<camera>/baseline.npz      scores, reference features, previous still (numpy, no pickle)
    <state>/<camera>/reference-day.jpg  the reference stills as the camera sent them
    <state>/<camera>/reference-night.jpg
    <state>/<camera>/last.jpg           the last still fetched

Files are written to a temporary name and renamed, so a crash leaves the old file. A baseline file
that cannot be read (truncated, another version) is set aside as ``baseline.npz.bad`` and learning
starts over: a lost baseline costs an hour of learning, never a crash.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from sharpeyes.vqd.baseline import MODES, STATS, Baseline, ModeBaseline
from sharpeyes.vqd.checks import Reference

log = logging.getLogger(__name__)
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
FORMAT = 2


class BaselineStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def dir(self, camera: str) -> Path:
        if not _SAFE.match(camera) or ".." in camera:
            raise ValueError(f"camera id {camera!r} cannot name a state directory")
        return self.root / camera

    def load(self, camera: str, now: float | None = None) -> Baseline:
        path = self.dir(camera) / "baseline.npz"
        created = time.time() if now is None else now
        if not path.exists():
            return Baseline(camera, created)
        try:
            with np.load(path, allow_pickle=False) as z:
                return _from_arrays(camera, {k: z[k] for k in z.files})
        except Exception as exc:  # any unreadable file: keep it for a post-mortem, start over
            log.warning("vqd baseline of %s unreadable (%s): learning again", camera, type(exc).__name__)
            os.replace(path, path.with_suffix(".npz.bad"))
            return Baseline(camera, created)

    def save(self, baseline: Baseline, last_jpeg: bytes | None = None) -> None:
        d = self.dir(baseline.camera)
        d.mkdir(parents=True, exist_ok=True)
        if last_jpeg is not None:
            _atomic(d / "last.jpg", last_jpeg)
        for mode, mb in baseline.modes.items():
            if mb.reference_jpeg is not None:  # a new reference: written once
                _atomic(d / f"reference-{mode}.jpg", mb.reference_jpeg)
                mb.reference_jpeg = None
        tmp = d / "baseline.tmp.npz"
        np.savez(tmp, **_to_arrays(baseline))  # type: ignore[arg-type]
        os.replace(tmp, d / "baseline.npz")

    def reset(self, camera: str) -> bool:
        """Forget the camera's baseline and stills (after a legitimate re-aim); True if there was one."""
        d = self.dir(camera)
        if not d.exists():
            return False
        shutil.rmtree(d)
        return True

    def still(self, camera: str, name: str) -> bytes | None:
        """``last``, ``reference`` (the day reference, else the night one), ``reference-day|night``."""
        d = self.dir(camera)
        names = [f"{m}" for m in (["reference-day", "reference-night"] if name == "reference" else [name])]
        for n in names:
            if n not in ("last", "reference-day", "reference-night"):
                raise ValueError(f"no still named {name!r}")
            path = d / f"{n}.jpg"
            if path.is_file():
                return path.read_bytes()
        return None

    def summary(self, camera: str) -> dict[str, Any]:
        """What ``vqd list`` shows of one camera: samples and reference time per light mode, when
        learning started and the last still. Read only: an unreadable file is reported in ``problem``,
        not set aside (the prober does that when it next needs the baseline)."""
        d = self.dir(camera)
        row: dict[str, Any] = {"camera": camera, "learning_since": None}
        for mode in MODES:
            row[f"{mode}_samples"], row[f"{mode}_reference"] = 0, None
        last = d / "last.jpg"
        row["last_still"] = _iso(last.stat().st_mtime) if last.is_file() else None
        row["state_dir"], row["problem"] = str(self.root), None
        try:
            with np.load(d / "baseline.npz", allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
            if meta.get("format") != FORMAT:
                raise ValueError(f"baseline format {meta.get('format')}")
            row["learning_since"] = _iso(float(meta["created"]))
            for mode in MODES:
                m = meta["modes"][mode]
                row[f"{mode}_samples"] = len(m["samples"]["mean"])
                if "reference_width" in m:
                    row[f"{mode}_reference"] = _iso(float(m["reference_taken"]))
        except Exception as exc:  # any unreadable file: the listing goes on
            row["problem"] = f"baseline unreadable ({type(exc).__name__})"
        return row

    def cameras(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / "baseline.npz").is_file())


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds")


def _atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _to_arrays(b: Baseline) -> dict[str, np.ndarray]:
    modes: dict[str, dict[str, Any]] = {}
    meta = {"format": FORMAT, "created": b.created, "previous_taken": b.previous_taken, "modes": modes}
    out: dict[str, np.ndarray] = {}
    for mode, mb in b.modes.items():
        modes[mode] = {"samples": mb.samples, "hours": mb.hours, "reference_taken": mb.reference_taken}
        if mb.reference is not None:
            r = mb.reference
            for name in ("texture", "fine", "colour", "std", "keypoints", "descriptors"):
                out[f"{mode}_{name}"] = getattr(r, name)
            modes[mode]["reference_width"] = r.width
    if b.previous is not None:
        out["previous"] = b.previous
    out["meta"] = np.array(json.dumps(meta))
    return out


def _from_arrays(camera: str, z: dict[str, np.ndarray]) -> Baseline:
    meta = json.loads(str(z["meta"]))
    if meta.get("format") != FORMAT:
        raise ValueError(f"baseline format {meta.get('format')}")
    b = Baseline(camera, float(meta["created"]))
    b.previous_taken = float(meta["previous_taken"])
    b.previous = z.get("previous")
    for mode in MODES:
        m = meta["modes"][mode]
        mb = ModeBaseline()
        mb.samples = {k: [float(v) for v in m["samples"][k]] for k in STATS}
        mb.hours = [int(h) for h in m["hours"]]
        mb.reference_taken = float(m["reference_taken"])
        if f"{mode}_texture" in z:
            mb.reference = Reference(z[f"{mode}_texture"], z[f"{mode}_fine"], z[f"{mode}_colour"],
                                     z[f"{mode}_std"], z[f"{mode}_keypoints"], z[f"{mode}_descriptors"],
                                     int(m["reference_width"]))
        b.modes[mode] = mb
    return b
